"""对账结果: upload a gateway statement, run ``billing.reconciliation.reconcile`` (the function the
``billing_reconcile`` command runs) and list the differences; below province level only those on
accounts within the caller's units. Nothing is stored."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from powerdesk.billing.models import Payment
from powerdesk.billing.reconciliation import reconcile
from powerdesk.billing.services import payment_record
from powerdesk.console.tests.helpers import client_for, staff_with_role
from powerdesk.staff.roles import ROLE_PERMISSIONS, Perm

pytestmark = pytest.mark.django_db

URL = "/console/reconciliation/"
ROLES = list(ROLE_PERMISSIONS)
STATEMENT = (
    "渠道流水号,金额,到账时间\n"
    "OK1,112.98,2025-12-01 10:00:00\n"
    "AMT,5.01,2025-12-01 11:00:00\n"
    "ONLYTHEIRS,3.00,2025-12-02 09:00:00\n"
    "B-AMT,9.99,2025-12-01 12:00:00\n"
    "OK1,112.98,2025-12-01 10:00:00\n"
    "BAD,1.005,2025-12-01 10:00:00\n"
)


def pay(account, txn, amount_fen, when, gateway="alipay"):
    payment_record(
        account=account,
        amount_fen=amount_fen,
        gateway=gateway,
        gateway_txn_id=txn,
        paid_at=when,
        channel="alipay",
    )


@pytest.fixture
def ours(account_a, account_b):
    pay(account_a, "OK1", 11298, datetime(2025, 12, 1, 2, tzinfo=UTC))
    pay(account_a, "AMT", 500, datetime(2025, 12, 1, 3, tzinfo=UTC))
    pay(account_a, "ONLYOURS", 700, datetime(2025, 12, 2, 3, tzinfo=UTC))
    pay(account_b, "B-AMT", 1000, datetime(2025, 12, 1, 4, tzinfo=UTC))
    pay(account_b, "B-ONLYOURS", 800, datetime(2025, 12, 2, 4, tzinfo=UTC))


def upload(text: str = STATEMENT, name: str = "alipay-20251201.csv", encoding: str = "utf-8"):
    return SimpleUploadedFile(name, text.encode(encoding), content_type="text/csv")


def run(user, *, gateway: str = "alipay", statement=None):
    return client_for(user).post(URL, {"gateway": gateway, "statement": statement or upload()})


def kinds(response) -> list[tuple[str, str]]:
    return sorted(
        (row.difference.kind, row.difference.gateway_txn_id) for row in response.context["shown"].rows
    )


def test_province_staff_see_every_difference(admin_user, ours, tmp_path):
    response = run(admin_user)
    assert response.status_code == 200
    assert kinds(response) == [
        ("amount_differs", "AMT"),
        ("amount_differs", "B-AMT"),
        ("bad_row", "BAD"),
        ("duplicate_in_statement", "OK1"),
        ("missing_ours", "ONLYTHEIRS"),
        ("missing_theirs", "B-ONLYOURS"),
        ("missing_theirs", "ONLYOURS"),
    ]
    # The same function as the billing_reconcile command, on the same file: the same answer.
    path = tmp_path / "alipay-20251201.csv"
    path.write_text(STATEMENT, encoding="utf-8")
    assert len(response.context["shown"].rows) == len(reconcile(gateway="alipay", statement=path).differences)
    html = response.content.decode()
    assert "金额不符" in html and "本系统无此笔" in html and "对账单无此笔" in html and "对账单内重复" in html
    assert "5.00" in html and "5.01" in html  # ours and theirs, exact yuan
    assert "data-matched>1<" in html and "alipay-20251201.csv" in html
    assert "data-hidden-differences" not in html


def test_gbk_statements_are_read(admin_user, ours):
    response = run(admin_user, statement=upload(encoding="gbk"))
    assert ("amount_differs", "AMT") in kinds(response)


def test_county_staff_see_only_their_accounts_and_their_file(back_office_a, ours):
    response = run(back_office_a)
    assert kinds(response) == [
        ("amount_differs", "AMT"),
        ("bad_row", "BAD"),
        ("duplicate_in_statement", "OK1"),
        ("missing_theirs", "ONLYOURS"),
    ]
    html = response.content.decode()
    assert response.context["shown"].hidden == 3  # B-AMT, B-ONLYOURS (county B), ONLYTHEIRS (no account)
    assert "data-hidden-differences" in html and "另有 3 处差异" in html
    assert "0000000002" not in html and "B-ONLYOURS" not in html and "ONLYTHEIRS" not in html
    assert "data-our-payments" not in html  # company-wide counts are for province staff


@pytest.mark.parametrize(
    ("statement", "gateway", "message"),
    [
        (None, "alipay", "请选择要上传的对账单文件"),
        (upload(name="statement.txt"), "alipay", "请上传 CSV 格式的对账单"),
        (upload(text=""), "alipay", "上传的对账单是空文件"),
        (upload(text="txn,yuan\nA,1.00\n"), "alipay", "缺少必需的列"),
        (upload(text="渠道流水号,金额,到账时间\nA,1,x\n", encoding="utf-16"), "alipay", "无法识别文件编码"),
        (upload(), "paypal", "paypal"),
    ],
    ids=["no-file", "not-csv", "empty", "missing-columns", "bad-encoding", "unknown-gateway"],
)
def test_bad_statements_are_explained(admin_user, ours, statement, gateway, message):
    data = {"gateway": gateway}
    if statement is not None:
        data["statement"] = statement
    before = list(Payment.objects.order_by("pk").values_list("pk", "refunded_fen", "status"))
    response = client_for(admin_user).post(URL, data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert response.context["shown"] is None
    assert list(Payment.objects.order_by("pk").values_list("pk", "refunded_fen", "status")) == before


@pytest.mark.parametrize("role", ROLES, ids=[r.value for r in ROLES])
def test_reconciliation_follows_the_matrix(company, ours, role):
    response = run(staff_with_role(company, role))
    if Perm.PAYMENT_RECONCILE in ROLE_PERMISSIONS[role]:
        assert response.status_code == 200 and response.context["shown"] is not None
    else:
        assert response.status_code == 403


def test_query_count_is_fixed(admin_user, back_office_a, ours, account_a, django_assert_max_num_queries):
    for n in range(20):
        pay(account_a, f"EXTRA{n}", 100 + n, datetime(2025, 12, 1, 5, tzinfo=UTC))
    for user, limit in ((admin_user, 5), (back_office_a, 6)):
        client = client_for(user)
        client.get(URL)
        with django_assert_max_num_queries(limit):
            client.post(URL, {"gateway": "alipay", "statement": upload()})
