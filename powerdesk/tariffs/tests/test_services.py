"""Creating and ending tariff versions; the stored rows give back the validated snapshot."""

from datetime import date
from decimal import Decimal as D

import pytest

from powerdesk.core.exceptions import ApplicationError
from powerdesk.events.models import DomainEvent
from powerdesk.tariffs.models import Tariff, TariffBandPrice, TariffTier, TouWindow
from powerdesk.tariffs.selectors import snapshot
from powerdesk.tariffs.services import tariff_create, tariff_end
from powerdesk.tariffs.tests.catalogue import DEFINITIONS, definition, tariff

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("which", sorted(DEFINITIONS))
def test_stored_tariff_snapshots_to_what_was_validated(which):
    created = tariff_create(**definition(which))
    stored = Tariff.objects.get(pk=created.pk)
    assert snapshot(stored) == tariff(which)
    assert str(snapshot(stored).band_prices[0][1]) == str(
        tariff(which).band_prices[0][1]
    )  # 0.538, not 0.53800


def test_rows_written_for_a_tiered_tou_tariff():
    created = tariff_create(**definition("residential_tou_yearly"), note="测试")
    assert created.series == "T-RES-TOU-Y"  # defaults to the code
    assert list(
        TariffTier.objects.filter(tariff=created).values_list("order", "upper_kwh", "surcharge_per_kwh")
    ) == [
        (1, D(2760), D(0)),
        (2, D(4800), D("0.05")),
        (3, None, D("0.3")),
    ]
    assert dict(TariffBandPrice.objects.filter(tariff=created).values_list("band", "price_per_kwh")) == {
        "peak": D("0.568"),
        "valley": D("0.288"),
    }
    windows = list(TouWindow.objects.filter(tariff=created).order_by("order").values_list("band", "months"))
    assert windows == [("peak", list(range(1, 13))), ("valley", list(range(1, 13)))]


def test_creation_is_recorded_as_an_event():
    created = tariff_create(**definition("business_flat"), actor_staff_id=None)
    event = DomainEvent.objects.get(kind="tariff.created")
    assert event.channel == "system"
    assert event.payload == {
        "code": created.code,
        "series": created.series,
        "kind": "flat",
        "valid_from": "2020-01-01",
        "valid_to": None,
    }


def test_invalid_definition_writes_nothing():
    with pytest.raises(ApplicationError) as error:
        tariff_create(**definition("residential_monthly", tiers=[{"upper_kwh": 400}, {"upper_kwh": 230}, {}]))
    assert error.value.field == "tiers[1].upper_kwh"
    assert not Tariff.objects.exists() and not TariffTier.objects.exists()


def test_duplicate_code_is_refused():
    tariff_create(**definition("business_flat"))
    with pytest.raises(ApplicationError) as error:
        tariff_create(**definition("business_flat", series="OTHER"))
    assert (error.value.code, error.value.field, error.value.status) == ("duplicate_code", "code", 409)


def test_versions_of_a_series_must_not_overlap():
    tariff_create(**definition("business_flat", code="GC-2023", series="GC", valid_from=date(2023, 1, 1)))
    with pytest.raises(ApplicationError) as error:
        tariff_create(**definition("business_flat", code="GC-2025", series="GC", valid_from=date(2025, 6, 1)))
    assert (error.value.code, error.value.field) == ("validity_overlaps", "valid_from")
    assert "GC-2023" in error.value.message


def test_a_price_change_ends_the_old_version_then_adds_the_new():
    old = tariff_create(
        **definition("business_flat", code="GC-2023", series="GC", valid_from=date(2023, 1, 1))
    )
    tariff_end(tariff=old, valid_to=date(2025, 6, 1))
    new = tariff_create(
        **definition(
            "business_flat",
            code="GC-2025",
            series="GC",
            valid_from=date(2025, 6, 1),
            band_prices={"flat": "0.65"},
        )
    )
    old.refresh_from_db()
    assert (old.valid_to, new.valid_from, new.valid_to) == (date(2025, 6, 1), date(2025, 6, 1), None)
    assert DomainEvent.objects.filter(kind="tariff.ended").get().payload["valid_to"] == "2025-06-01"


def test_ending_cannot_reach_into_the_next_version_or_before_the_start():
    old = tariff_create(
        **definition(
            "business_flat", code="A", series="S", valid_from=date(2023, 1, 1), valid_to=date(2024, 1, 1)
        )
    )
    tariff_create(**definition("business_flat", code="B", series="S", valid_from=date(2024, 1, 1)))
    with pytest.raises(ApplicationError) as error:
        tariff_end(tariff=old, valid_to=date(2024, 2, 1))
    assert error.value.code == "validity_overlaps"
    with pytest.raises(ApplicationError) as error:
        tariff_end(tariff=old, valid_to=date(2023, 1, 1))
    assert (error.value.code, error.value.field) == ("invalid_validity", "valid_to")


def test_a_series_keeps_one_tariff_class():
    tariff_create(**definition("business_flat", code="A", series="S", valid_to=date(2024, 1, 1)))
    with pytest.raises(ApplicationError) as error:
        tariff_create(**definition("agricultural", code="B", series="S", valid_from=date(2024, 1, 1)))
    assert (error.value.code, error.value.field) == ("series_class_mismatch", "tariff_class")
