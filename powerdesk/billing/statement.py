"""The 电费清单 PDF: an account's bills over a range of months, totals and payments.

Chinese is drawn with WenQuanYi Zen Hei (Debian package ``fonts-wqy-zenhei``), embedded as a
subset so the file reads the same on a phone without Chinese fonts. Names are masked as on
every customer face (个人信息保护法): the PDF is often forwarded.
"""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from powerdesk.billing.reads import StatementData, fen_to_yuan
from powerdesk.customers.validators import mask_name

DEFAULT_FONT_PATH = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"
FONT_NAME = "WQYZenHei"
FONT_PACKAGE = "fonts-wqy-zenhei"


class StatementFontMissing(ImproperlyConfigured):
    """The Chinese font file is not installed: a deployment problem, not a customer's."""


def _font_path() -> Path:
    return Path(getattr(settings, "STATEMENT_FONT_PATH", DEFAULT_FONT_PATH))


def register_font() -> str:
    """Register the Chinese font once per process; its name for styles."""
    if FONT_NAME in pdfmetrics.getRegisteredFontNames():
        return FONT_NAME
    path = _font_path()
    if not path.is_file():
        raise StatementFontMissing(
            f"电费清单 PDF 需要中文字体 {path}，未找到。请安装 Debian 软件包 {FONT_PACKAGE}"
            f"（apt-get install {FONT_PACKAGE}），或设置 STATEMENT_FONT_PATH 指向 WenQuanYi Zen Hei 字体文件。"
        )
    # A .ttc holds several faces; index 0 is Zen Hei itself (1 is the monospaced Zen Hei Mono).
    pdfmetrics.registerFont(TTFont(FONT_NAME, str(path), subfontIndex=0))
    return FONT_NAME


def _kwh(value) -> str:
    return f"{value:.2f}"


def statement_pdf(data: StatementData) -> bytes:
    """Render ``data`` as an A4 PDF and return its bytes."""
    font = register_font()
    title_style = ParagraphStyle("title", fontName=font, fontSize=16, leading=22, spaceAfter=4)
    body_style = ParagraphStyle("body", fontName=font, fontSize=9.5, leading=14)
    heading_style = ParagraphStyle(
        "heading", fontName=font, fontSize=11.5, leading=16, spaceBefore=8, spaceAfter=4
    )
    account = data.account
    buffer = BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=16 * mm,
        rightMargin=16 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=_("电费清单 %(number)s") % {"number": account.number},
        author=_("电力营业厅"),
    )
    header = [
        [_("户号"), account.number, _("户名"), mask_name(account.holder_name)],
        [_("用电地址"), account.address, _("用电类别"), account.get_tariff_class_display()],
        [
            _("账期"),
            f"{data.period_from:%Y-%m} — {data.period_to:%Y-%m}",
            _("生成时间"),
            f"{timezone.localtime():%Y-%m-%d %H:%M}",
        ],
    ]
    story = [
        Paragraph(_("电费清单"), title_style),
        _table(header, font, col_widths=[18 * mm, 72 * mm, 20 * mm, 68 * mm], head=False),
        Paragraph(_("月度电费"), heading_style),
    ]
    month_rows = [
        [_("电费年月"), _("总电量"), _("尖"), _("峰"), _("平"), _("谷"), _("电费（元）"), _("状态")]
    ]
    for row in data.bills:
        bill = row.bill
        status = row.status.label if hasattr(row.status, "label") else str(row.status)
        if bill.version > 1:
            status = _("%(status)s（已退补）") % {"status": status}
        month_rows.append(
            [
                f"{bill.period:%Y-%m}",
                _kwh(bill.kwh_total),
                _kwh(bill.kwh_sharp),
                _kwh(bill.kwh_peak),
                _kwh(bill.kwh_flat),
                _kwh(bill.kwh_valley),
                fen_to_yuan(bill.amount_fen),
                str(status),
            ]
        )
    totals = data.kwh_totals
    month_rows.append(
        [
            _("合计"),
            _kwh(totals["kwh_total"]),
            _kwh(totals["kwh_sharp"]),
            _kwh(totals["kwh_peak"]),
            _kwh(totals["kwh_flat"]),
            _kwh(totals["kwh_valley"]),
            fen_to_yuan(data.amount_fen),
            "",
        ]
    )
    if not data.bills:
        story.append(Paragraph(_("该期间没有电费账单。"), body_style))
    story.append(
        _table(
            month_rows,
            font,
            col_widths=[x * mm for x in (22, 22, 18, 22, 18, 18, 26, 32)],
            numeric_from=1,
            total_row=True,
        )
    )
    story.append(Paragraph(_("缴费记录"), heading_style))
    if data.payments:
        payment_rows = [[_("到账时间"), _("金额（元）"), _("渠道"), _("状态")]]
        for payment in data.payments:
            payment_rows.append(
                [
                    f"{timezone.localtime(payment.paid_at):%Y-%m-%d %H:%M}",
                    fen_to_yuan(payment.amount_fen),
                    str(payment.get_channel_display()),
                    str(payment.get_status_display()),
                ]
            )
        story.append(_table(payment_rows, font, col_widths=[45 * mm, 35 * mm, 50 * mm, 48 * mm]))
    else:
        story.append(Paragraph(_("该期间没有缴费记录。"), body_style))
    balance = data.balance
    if balance.credit_fen:
        balance_text = _("当前预存余额 ¥%(yuan)s") % {"yuan": fen_to_yuan(balance.credit_fen)}
    else:
        balance_text = _("当前应缴 ¥%(yuan)s") % {"yuan": fen_to_yuan(balance.owed_fen)}
    story += [
        Spacer(1, 6 * mm),
        Paragraph(
            _("本期电费合计 ¥%(amount)s，缴费合计 ¥%(paid)s，未缴 ¥%(outstanding)s。%(balance)s。")
            % {
                "amount": fen_to_yuan(data.amount_fen),
                "paid": fen_to_yuan(data.paid_fen),
                "outstanding": fen_to_yuan(data.outstanding_fen),
                "balance": balance_text,
            },
            body_style,
        ),
        Paragraph(_("本清单由电力营业厅生成，仅供参考；以供电企业营销系统记录为准。"), body_style),
    ]
    document.build(story)
    return buffer.getvalue()


def _table(
    rows, font, *, col_widths=None, head: bool = True, numeric_from: int | None = None, total_row=False
):
    table = Table(rows, colWidths=col_widths, repeatRows=1 if head else 0)
    style = [
        ("FONTNAME", (0, 0), (-1, -1), font),
        ("FONTSIZE", (0, 0), (-1, -1), 9),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#c8c8c8")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]
    if head:
        style.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef6f0")))
    else:
        style += [
            ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#f4f4f4")),
            ("BACKGROUND", (2, 0), (2, -1), colors.HexColor("#f4f4f4")),
        ]
    if numeric_from is not None:
        style.append(("ALIGN", (numeric_from, 1), (-2, -1), "RIGHT"))
    if total_row:
        style.append(("BACKGROUND", (0, -1), (-1, -1), colors.HexColor("#fafafa")))
    table.setStyle(TableStyle(style))
    return table
