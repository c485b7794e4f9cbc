"""console.selectors.account_query_parse: how a search entry is understood (shared with the API)."""

from __future__ import annotations

import pytest

from powerdesk.console.selectors import AccountQuery, QueryKind, account_query_parse
from powerdesk.core.exceptions import ApplicationError


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("0000000001", AccountQuery(QueryKind.ACCOUNT_NUMBER, "0000000001")),
        (" ０００００００００１ ", AccountQuery(QueryKind.ACCOUNT_NUMBER, "0000000001")),
        ("13800000000", AccountQuery(QueryKind.PHONE, "13800000000")),
        ("+86 138 0000 0000", AccountQuery(QueryKind.PHONE, "13800000000")),
        ("138****0000", AccountQuery(QueryKind.MASKED_PHONE, "138", suffix="0000")),
        ("1380***0000", AccountQuery(QueryKind.MASKED_PHONE, "1380", suffix="0000")),
        ("张三", AccountQuery(QueryKind.NAME, "张三")),
        ("示范 第一中学", AccountQuery(QueryKind.NAME, "示范 第一中学")),
        ("", None),
        ("   ", None),
    ],
)
def test_search_entries_are_understood(entry, expected):
    assert account_query_parse(entry) == expected


@pytest.mark.parametrize("entry", ["12345", "000000000", "138****000", "****", "138*0000"])
def test_digits_and_stars_that_are_no_known_shape_are_refused(entry):
    with pytest.raises(ApplicationError) as refused:
        account_query_parse(entry)
    assert refused.value.code == "search_query_unrecognised"
