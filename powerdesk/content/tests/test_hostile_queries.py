"""Any text at all is a query: it yields a list, never an SQL or FTS syntax error."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from powerdesk.content.segmentation import MAX_QUERY_TERMS, segment_query
from powerdesk.content.selectors import article_search

HOSTILE = [
    "",
    "   ",
    '"',
    "'",
    '"缴费',
    '缴费" OR "1"="1',
    "'; DROP TABLE content_article; --",
    "缴费 AND OR NOT",
    "NEAR(缴费 电费, 2)",
    "title:缴费",
    "{title summary}: 缴费",
    "缴* ^电费 -停电 +报装",
    "(((",
    ")",
    "\x00缴费\x00",
    "%s %(x)s ?",
    "\\",
    "😀⚡️🔌",
    "é́́́",
    "ｃｏｎｔｅｎｔ　全角　缴费",
    "的了吗呢",  # stop-words only
    "缴费" * 5000,
    "a " * 20000,
    "<script>alert(1)</script>",
    "\u202e缴费",
]


@pytest.mark.django_db
@pytest.mark.parametrize("query", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_queries_return_a_list(guides, query):
    hits = article_search(query=query)
    assert isinstance(hits, list)
    assert all(hit.article.is_published for hit in hits)


@pytest.mark.django_db
def test_an_injection_attempt_still_finds_the_words_it_contains(guides):
    hits = article_search(query='缴费" OR "1"="1')
    assert hits[0].terms == ("缴费", "1")  # quotes and OR are gone; the words stay words
    assert "payment-methods" in {hit.article.slug for hit in hits}


@pytest.mark.django_db
def test_non_text_and_empty_queries_find_nothing(guides):
    assert article_search(query="") == []
    assert article_search(query=None) == []  # type: ignore[arg-type]
    assert article_search(query="的了吗") == []


def test_very_long_queries_are_cut_to_a_bounded_number_of_terms():
    terms = segment_query("".join(chr(0x4E00 + i) for i in range(5000)))
    assert len(terms) <= MAX_QUERY_TERMS
    assert all(term.isalnum() for term in terms)


@pytest.mark.django_db
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=st.text(max_size=300) | st.text(alphabet="\"'*^:(){}[]+-~ ANDORNEAR缴费电峰谷\x00", max_size=60))
def test_any_text_yields_a_list_never_an_exception(guides, query):
    hits = article_search(query=query)
    assert isinstance(hits, list)


@given(query=st.text(max_size=200))
def test_query_terms_are_letters_and_digits_only(query):
    assert all(term and term.isalnum() and term == term.lower() for term in segment_query(query))
