"""The 电费清单 PDF: parses, carries its Chinese as real text in an embedded font, masks the name."""

from __future__ import annotations

import subprocess

import pytest

from powerdesk.billing import statement
from powerdesk.billing.reads import statement_data, statement_range
from powerdesk.billing.statement import StatementFontMissing, statement_pdf
from powerdesk.billing.testing import make_billing_history

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(account_a):
    return make_billing_history(account_a)


@pytest.fixture
def pdf(account_a, history) -> bytes:
    period_from, period_to = statement_range()
    return statement_pdf(statement_data(account=account_a, period_from=period_from, period_to=period_to))


def _text(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "statement.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


def test_the_pdf_embeds_the_chinese_font(pdf):
    assert pdf.startswith(b"%PDF-")
    assert b"/FontFile2" in pdf  # the TrueType program is inside the file, not referenced
    assert b"WenQuanYiZenHei" in pdf  # subset of the face registered from the .ttc


def test_the_pdf_text_has_the_account_header_months_and_totals(pdf, history, tmp_path):
    text = _text(pdf, tmp_path)
    assert "电费清单" in text
    assert "户号" in text and "0000000001" in text
    assert "张*" in text and "张三" not in text  # holder name masked
    assert "示范路1号" in text
    assert f"{history.latest_period:%Y-%m}" in text
    assert "已退补" in text
    assert "合计" in text
    assert "缴费记录" in text


def test_an_empty_period_still_renders(account_a, tmp_path):
    period_from, period_to = statement_range(period_from="2001-01", period_to="2001-03")
    pdf = statement_pdf(statement_data(account=account_a, period_from=period_from, period_to=period_to))
    text = _text(pdf, tmp_path)
    assert "该期间没有电费账单" in text and "2001-01" in text


def test_a_missing_font_names_the_debian_package(settings, monkeypatch, tmp_path):
    monkeypatch.setattr(statement, "FONT_NAME", "WQYZenHeiMissingTest")
    settings.STATEMENT_FONT_PATH = str(tmp_path / "nowhere.ttc")
    with pytest.raises(StatementFontMissing, match="fonts-wqy-zenhei"):
        statement.register_font()
