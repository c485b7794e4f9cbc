"""The command grammar: case, spaces, full-width characters and 户号 forms (commands.py)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from powerdesk.channels.sms.commands import VERBS, help_text, parse
from powerdesk.conversations.choices import Intent

BILL, BALANCE, TD, DY, HELP = Intent.BILL, Intent.BALANCE, Intent.UNSUBSCRIBE, Intent.RESUBSCRIBE, Intent.MENU


@pytest.mark.parametrize(
    ("text", "intent", "number"),
    [
        # the bill, every way people type it
        ("CXDF 0000000001", BILL, "0000000001"),
        ("cxdf 0000000001", BILL, "0000000001"),
        ("CxDf0000000001", BILL, "0000000001"),
        ("ＣＸＤＦ　０００００００００１", BILL, "0000000001"),  # full-width letters, digits, space
        ("ｃｘｄｆ０００００００００１", BILL, "0000000001"),
        (" C X D F  00000 00001 ", BILL, "0000000001"),  # spaces anywhere
        ("CXDF\t0000000001\n", BILL, "0000000001"),
        ("CXDF+0000000001", BILL, "0000000001"),
        ("CXDF＋0000000001", BILL, "0000000001"),
        ("CXDF#0000000001", BILL, "0000000001"),
        ("CXDF:0000000001", BILL, "0000000001"),
        ("CXDF：0000000001。", BILL, "0000000001"),
        ("CXDF，户号：0000000001", BILL, "0000000001"),
        ("查电费 0000000001", BILL, "0000000001"),
        ("查电费户号0000000001", BILL, "0000000001"),
        ("查询电费、0000000001", BILL, "0000000001"),
        ("电费 0000000001", BILL, "0000000001"),
        ("CXDF", BILL, ""),
        ("查电费", BILL, ""),
        ("查电费？", BILL, ""),
        ("CXDF 12345", BILL, "12345"),  # the handler says 户号 has ten digits
        # spaces are removed before reading, so two numbers read as one too long to be a 户号
        ("CXDF 0000000001 0000000002", BILL, "00000000010000000002"),
        # the balance
        ("YE", BALANCE, ""),
        ("ye", BALANCE, ""),
        ("ＹＥ", BALANCE, ""),
        ("Y E", BALANCE, ""),
        ("余额", BALANCE, ""),
        ("查余额", BALANCE, ""),
        ("YE 0000000002", BALANCE, "0000000002"),
        # unsubscribe
        ("TD", TD, ""),
        ("td", TD, ""),
        ("ＴＤ", TD, ""),
        ("T", TD, ""),
        ("退订", TD, ""),
        ("退订！", TD, ""),
        (" 退 订 ", TD, ""),
        # subscribe again
        ("DY", DY, ""),
        ("dy", DY, ""),
        ("ＤＹ", DY, ""),
        ("订阅", DY, ""),
        ("恢复订阅。", DY, ""),
        # help
        ("BZ", HELP, ""),
        ("bz", HELP, ""),
        ("帮助", HELP, ""),
        ("help", HELP, ""),
        ("?", HELP, ""),
        ("？", HELP, ""),
    ],
)
def test_commands_are_understood(text, intent, number):
    command = parse(text)
    assert command is not None, text
    assert (command.intent, command.account_number) == (intent, number)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "你好",
        "电费多少钱",  # a question, not a command: it goes on to the knowledge base
        "CXDFX",
        "TD 0000000001",  # only the bill and the balance take a 户号
        "BZ 1",
        "DY 0000000001",
        "恢复",  # may mean the power (恢复供电), not the marketing: a question for the knowledge base
        "恢复供电",
        "CXDF abc",
        "CXDF 000000000１a",
        "CXDF " + "1" * 80,  # too long to be a command
        "XCDF",
        "٠١٢",  # Arabic-Indic digits are digits to Python, not to the grammar
        "CXDF ٠٠٠٠٠٠٠٠٠١",
    ],
)
def test_other_texts_are_not_commands(text):
    assert parse(text) is None


def test_the_verb_quoted_back_is_the_canonical_one():
    assert parse("查电费").verb == "CXDF"
    assert parse("余额").verb == "YE"
    assert parse("t").verb == "TD"
    assert parse("恢复订阅").verb == "DY"


def test_the_help_lists_every_canonical_command():
    text = help_text()
    assert all(verb in text for verb in VERBS)
    assert "95598" in text


@settings(deadline=None)
@given(st.text(max_size=200))
def test_any_text_parses_or_is_refused_without_raising(text):
    command = parse(text)
    assert command is None or command.intent in Intent.values
