"""The four-level supply-unit tree and scoping by path."""

import pytest

from powerdesk.core.exceptions import ApplicationError
from powerdesk.organisation.selectors import units_within
from powerdesk.organisation.services import supply_unit_create

pytestmark = pytest.mark.django_db


def test_tree_paths_make_subtrees_one_prefix_query(company):
    assert company.station_a.path == "/33/3301/330102/33010201/"
    within_a = set(units_within(company.county_a).values_list("code", flat=True))
    assert within_a == {"330102", "33010201"}
    assert company.station_a.is_within(company.city)
    assert not company.station_a.is_within(company.county_b)


@pytest.mark.parametrize(
    ("level", "parent_attr"),
    [("county", "province"), ("station", "city"), ("city", "county_a"), ("province", "city")],
)
def test_wrong_parent_level_is_refused(company, level, parent_attr):
    with pytest.raises(ApplicationError) as exc:
        supply_unit_create(code="X1", name="错误单位", level=level, parent=getattr(company, parent_attr))
    assert exc.value.field == "parent"


def test_duplicate_and_malformed_codes_are_refused(company):
    with pytest.raises(ApplicationError) as exc:
        supply_unit_create(code="330102", name="重复", level="county", parent=company.city)
    assert exc.value.code == "duplicate_code"
    with pytest.raises(ApplicationError) as exc:
        supply_unit_create(code="33/01", name="斜杠", level="county", parent=company.city)
    assert exc.value.code == "invalid_code"
