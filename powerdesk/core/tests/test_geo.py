"""GCJ-02 conversion checked against prcoords, an independent implementation from PyPI."""

from __future__ import annotations

import json
import math
from pathlib import Path

import prcoords
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from powerdesk.core.geo import gcj02_to_wgs84, haversine_m, in_mainland_china, wgs84_to_gcj02

DIVISIONS = Path(__file__).resolve().parents[2] / "demo" / "data" / "divisions.json"

# Every 0.5° over China's bounding box, keeping the points the outline calls mainland.
GRID = [
    (lng / 2, lat / 2)
    for lng in range(2 * 73, 2 * 136)
    for lat in range(2 * 18, 2 * 54)
    if in_mainland_china(lng / 2, lat / 2)
]

MAINLAND_PLACES = {
    "杭州": (120.16, 30.27),
    "嵊泗": (122.45, 30.72),
    "三亚": (109.50, 18.25),
    "东兴": (107.97, 21.55),
    "喀什": (75.99, 39.47),
    "漠河": (122.53, 52.97),
    "抚远": (134.29, 48.36),
    "珲春": (130.37, 42.86),
    "亚东": (88.90, 27.48),
    "深圳福田": (114.06, 22.54),
    "深圳蛇口": (113.91, 22.48),
    "珠海拱北": (113.57, 22.23),
    "横琴": (113.52, 22.13),
}

OUTSIDE_PLACES = {
    "Hong Kong Central": (114.16, 22.28),
    "Sheung Shui": (114.13, 22.50),
    "Macau": (113.539, 22.194),
    "Taipa": (113.56, 22.16),
    "Taipei": (121.56, 25.04),
    "Seoul": (126.98, 37.57),
    "Pyongyang": (125.75, 39.03),
    "Tokyo": (139.70, 35.70),
    "Ulaanbaatar": (106.90, 47.90),
    "Hanoi": (105.85, 21.03),
    "Kathmandu": (85.32, 27.71),
    "Manila": (120.98, 14.60),
    "New York": (-74.00, 40.70),
    "Sydney": (151.20, -33.90),
    "Null Island": (0.0, 0.0),
}


def test_grid_covers_china() -> None:
    assert len(GRID) > 3000


@pytest.mark.parametrize("name", MAINLAND_PLACES)
def test_mainland_places(name: str) -> None:
    assert in_mainland_china(*MAINLAND_PLACES[name])


@pytest.mark.parametrize("name", OUTSIDE_PLACES)
def test_outside_mainland_is_a_no_op(name: str) -> None:
    lng, lat = OUTSIDE_PLACES[name]
    assert not in_mainland_china(lng, lat)
    assert wgs84_to_gcj02(lng, lat) == (lng, lat)
    assert gcj02_to_wgs84(lng, lat) == (lng, lat)


def test_forward_matches_prcoords_on_grid() -> None:
    for lng, lat in GRID:
        expected = prcoords.wgs_gcj((lat, lng), check_china=False)
        gcj_lng, gcj_lat = wgs84_to_gcj02(lng, lat)
        assert gcj_lng == pytest.approx(expected.lon, abs=1e-10)
        assert gcj_lat == pytest.approx(expected.lat, abs=1e-10)


def test_inverse_matches_prcoords_on_grid() -> None:
    for lng, lat in GRID:
        gcj = wgs84_to_gcj02(lng, lat)
        expected = prcoords.gcj_wgs_bored((gcj[1], gcj[0]), check_china=False)
        assert haversine_m(*gcj02_to_wgs84(*gcj), expected.lon, expected.lat) < 0.5


def test_inverse_is_exact_under_prcoords_forward() -> None:
    """Our inverse, pushed through the independent forward shift, lands back on its input."""
    for lng, lat in GRID:
        gcj_lng, gcj_lat = wgs84_to_gcj02(lng, lat)
        wgs_lng, wgs_lat = gcj02_to_wgs84(gcj_lng, gcj_lat)
        back = prcoords.wgs_gcj((wgs_lat, wgs_lng), check_china=False)
        assert haversine_m(gcj_lng, gcj_lat, back.lon, back.lat) < 0.01


def test_round_trip_on_grid_is_under_half_a_metre() -> None:
    worst = max(haversine_m(lng, lat, *gcj02_to_wgs84(*wgs84_to_gcj02(lng, lat))) for lng, lat in GRID)
    assert worst < 0.5


def test_shift_is_a_few_hundred_metres() -> None:
    shifts = [haversine_m(lng, lat, *wgs84_to_gcj02(lng, lat)) for lng, lat in GRID]
    assert 0 < min(shifts) and max(shifts) < 1200


@given(
    st.floats(min_value=73.0, max_value=136.0, allow_nan=False),
    st.floats(min_value=18.0, max_value=54.0, allow_nan=False),
)
def test_round_trip_property(lng: float, lat: float) -> None:
    assume(in_mainland_china(lng, lat))
    assert haversine_m(lng, lat, *gcj02_to_wgs84(*wgs84_to_gcj02(lng, lat))) < 0.5


def test_demo_county_centres_are_in_mainland() -> None:
    data = json.loads(DIVISIONS.read_text(encoding="utf-8"))
    centres = [(c["lng"], c["lat"]) for city in data["cities"] for c in city["counties"]]
    assert len(centres) == 90
    assert all(in_mainland_china(lng, lat) for lng, lat in centres)


def test_haversine_known_distances() -> None:
    assert haversine_m(120.0, 30.0, 120.0, 30.0) == 0.0
    assert haversine_m(120.0, 30.0, 120.0, 31.0) == pytest.approx(111_195, abs=1)
    # 杭州 → 上海 (人民广场) is about 165 km as the crow flies.
    assert haversine_m(120.16, 30.27, 121.47, 31.23) == pytest.approx(165_000, rel=0.02)
    assert haversine_m(0.0, 0.0, 180.0, 0.0) == pytest.approx(math.pi * 6_371_008.8)


def test_haversine_agrees_with_prcoords() -> None:
    a, b = (120.16, 30.27), (116.40, 39.90)
    theirs = prcoords.Coords(a[1], a[0]).distance(prcoords.Coords(b[1], b[0]))
    # prcoords uses R = 6371000 m, we use the IUGG mean radius 6371008.8 m.
    assert haversine_m(*a, *b) == pytest.approx(theirs * 6371008.8 / 6371000, rel=1e-12)
