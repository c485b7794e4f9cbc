"""Binding accounts to customer users: by SMS code, by real name, unbinding, 过户."""

import re

import pytest

from powerdesk.channels.sms.models import OutboundSms
from powerdesk.core.exceptions import ApplicationError
from powerdesk.core.testing import SHOWCASE_ID_CARD
from powerdesk.customers import services
from powerdesk.customers.models import Binding
from powerdesk.events.models import DomainEvent

pytestmark = pytest.mark.django_db


def last_code(phone: str) -> str:
    body = OutboundSms.objects.filter(phone=phone).order_by("-id").first().body
    return re.search(r"验证码 (\d{6})", body).group(1)


@pytest.fixture(autouse=True)
def _no_resend_wait(settings):
    settings.OTP_RESEND_INTERVAL_SECONDS = 0


def test_bind_with_code_sent_to_phone_on_file(stranger, account_a):
    masked = services.binding_code_request(customer_user=stranger, account_number="0000000001")
    assert masked == "138****0000"
    binding = services.binding_create_with_code(
        customer_user=stranger,
        account_number="0000000001",
        code=last_code("13800000000"),
        role="family",
        channel="h5",
    )
    assert binding.role == "family" and binding.verified_by == "sms_otp"
    event = DomainEvent.objects.get(kind="customer.bound")
    assert (event.customer_user_id, event.account_id, event.channel) == (stranger.pk, account_a.pk, "h5")


def test_binding_twice_is_refused_before_a_code_is_sent(customer, account_a):
    with pytest.raises(ApplicationError) as exc:
        services.binding_code_request(customer_user=customer, account_number="0000000001")
    assert exc.value.code == "already_bound" and exc.value.status == 409
    assert OutboundSms.objects.count() == 0


def test_binding_twice_with_a_code_is_refused_and_code_not_spent(stranger, account_a):
    services.binding_code_request(customer_user=stranger, account_number="0000000001")
    code = last_code("13800000000")
    services.binding_create_with_code(
        customer_user=stranger, account_number="0000000001", code=code, channel="h5"
    )
    with pytest.raises(ApplicationError) as exc:
        services.binding_create_with_code(
            customer_user=stranger, account_number="0000000001", code=code, channel="h5"
        )
    assert exc.value.code == "already_bound"
    assert Binding.objects.filter(customer_user=stranger).count() == 1


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("123", "invalid_account_number"),
        ("00000000012", "invalid_account_number"),
        ("000000000A", "invalid_account_number"),
        ("9999999999", "account_not_found"),
    ],
)
def test_bad_account_numbers_get_precise_errors(stranger, account_a, number, code):
    with pytest.raises(ApplicationError) as exc:
        services.binding_code_request(customer_user=stranger, account_number=number)
    assert exc.value.code == code and exc.value.field == "account_number"
    assert OutboundSms.objects.count() == 0


def test_code_for_one_account_cannot_bind_another(stranger, account_a, company):
    from powerdesk.core.testing import make_account

    make_account(
        number="0000000003", unit=company.station_a, holder_name="王五", phone="13800000000", id_card=None
    )
    services.binding_code_request(customer_user=stranger, account_number="0000000001")
    with pytest.raises(ApplicationError) as exc:
        services.binding_create_with_code(
            customer_user=stranger, account_number="0000000003", code=last_code("13800000000"), channel="h5"
        )
    assert exc.value.code in {"otp_wrong", "otp_not_requested"}
    assert not Binding.objects.exists()


def test_bind_by_real_name(stranger, account_a):
    binding = services.binding_create_with_real_name(
        customer_user=stranger,
        account_number="0000000001",
        holder_name="张三",
        id_card_number=SHOWCASE_ID_CARD.lower(),
        channel="h5",
    )
    assert binding.verified_by == "real_name"


def test_real_name_mismatch_and_bad_checksum(stranger, account_a):
    with pytest.raises(ApplicationError) as exc:
        services.binding_create_with_real_name(
            customer_user=stranger,
            account_number="0000000001",
            holder_name="张四",
            id_card_number=SHOWCASE_ID_CARD,
            channel="h5",
        )
    assert exc.value.code == "real_name_mismatch"
    broken = SHOWCASE_ID_CARD[:-1] + ("1" if SHOWCASE_ID_CARD[-1] != "1" else "2")
    with pytest.raises(ApplicationError) as exc:
        services.binding_create_with_real_name(
            customer_user=stranger,
            account_number="0000000001",
            holder_name="张三",
            id_card_number=broken,
            channel="h5",
        )
    assert exc.value.code == "invalid_id_card" and exc.value.field == "id_card_number"
    assert not Binding.objects.exists()


def test_real_name_attempts_are_limited(stranger, account_a):
    for _ in range(services.REAL_NAME_FAILURES_PER_DAY):
        with pytest.raises(ApplicationError):
            services.binding_create_with_real_name(
                customer_user=stranger,
                account_number="0000000001",
                holder_name="李雷",
                id_card_number=SHOWCASE_ID_CARD,
                channel="h5",
            )
    with pytest.raises(ApplicationError) as exc:
        services.binding_create_with_real_name(
            customer_user=stranger,
            account_number="0000000001",
            holder_name="张三",
            id_card_number=SHOWCASE_ID_CARD,
            channel="h5",
        )
    assert exc.value.code == "real_name_attempts_exhausted" and exc.value.status == 429


def test_one_user_many_accounts_and_one_account_many_users(customer, stranger, account_a, account_b):
    services.binding_create_with_real_name(
        customer_user=stranger,
        account_number="0000000001",
        holder_name="张三",
        id_card_number=SHOWCASE_ID_CARD,
        channel="h5",
    )
    services.binding_code_request(customer_user=customer, account_number="0000000002")
    services.binding_create_with_code(
        customer_user=customer, account_number="0000000002", code=last_code("13900000000"), channel="app"
    )
    assert services.active_bindings().filter(account=account_a).count() == 2
    assert services.active_bindings().filter(customer_user=customer).count() == 2


def test_unbind_then_bind_again(customer, account_a):
    services.binding_end_by_customer(customer_user=customer, account_number="0000000001", channel="h5")
    assert not services.active_bindings().filter(customer_user=customer).exists()
    with pytest.raises(ApplicationError) as exc:
        services.binding_end_by_customer(customer_user=customer, account_number="0000000001", channel="h5")
    assert exc.value.code == "binding_not_found"
    services.binding_create_with_real_name(
        customer_user=customer,
        account_number="0000000001",
        holder_name="张三",
        id_card_number=SHOWCASE_ID_CARD,
        channel="h5",
    )
    assert Binding.objects.filter(customer_user=customer).count() == 2  # the ended one is kept


def test_unbinding_someone_elses_account_is_refused(stranger, customer, account_a):
    with pytest.raises(ApplicationError) as exc:
        services.binding_end_by_customer(customer_user=stranger, account_number="0000000001", channel="h5")
    assert exc.value.code == "binding_not_found"
    assert services.active_bindings().filter(customer_user=customer).count() == 1


def test_change_of_holder_ends_every_binding(customer, stranger, account_a, back_office_a):
    services.binding_create_with_real_name(
        customer_user=stranger,
        account_number="0000000001",
        holder_name="张三",
        id_card_number=SHOWCASE_ID_CARD,
        channel="h5",
    )
    services.account_change_holder(
        account=account_a,
        holder_kind="person",
        holder_name="赵六",
        phone="13600000000",
        id_card_number="110101198001010010",
        actor_staff_id=back_office_a.pk,
    )
    assert not services.active_bindings().filter(account=account_a).exists()
    ended = Binding.objects.filter(account=account_a)
    assert {b.end_reason for b in ended} == {"holder_changed"}
    account_a.refresh_from_db()
    assert account_a.holder_name == "赵六" and account_a.phone == "13600000000"
    # The old holder's real-name data no longer binds; the new holder's does.
    with pytest.raises(ApplicationError):
        services.binding_create_with_real_name(
            customer_user=customer,
            account_number="0000000001",
            holder_name="张三",
            id_card_number=SHOWCASE_ID_CARD,
            channel="h5",
        )
    services.binding_create_with_real_name(
        customer_user=customer,
        account_number="0000000001",
        holder_name="赵六",
        id_card_number="110101198001010010",
        channel="h5",
    )


def test_failed_holder_change_changes_nothing(customer, account_a):
    with pytest.raises(ApplicationError) as exc:
        services.account_change_holder(
            account=account_a,
            holder_kind="person",
            holder_name="赵六",
            phone="13600000000",
            id_card_number="110101198001010019",
        )
    assert exc.value.code == "invalid_id_card"
    account_a.refresh_from_db()
    assert account_a.holder_name == "张三"
    assert services.active_bindings().filter(account=account_a).count() == 1
