"""客户查询: scoped, masked, live (htmx partial), and a fixed number of queries."""

import pytest

from powerdesk.console.tests.helpers import client_for
from powerdesk.core.testing import make_account

SEARCH = "/console/customers/"


def results(client, query: str, **headers) -> str:
    response = client.get(SEARCH, {"q": query}, headers=headers)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize("query", ["0000000001", "13800000000", "138****0000", "张三", "张"])
def test_agent_finds_own_county_account_with_name_and_phone_masked(agent_a, account_a, query):
    html = results(client_for(agent_a), query)
    assert 'href="/console/customers/0000000001/"' in html
    assert "张*" in html and "138****0000" in html
    assert "张三" not in html.replace(f'value="{query}"', "")  # only the query box may echo it
    assert "13800000000" not in html.replace(f'value="{query}"', "")


@pytest.mark.parametrize("query", ["0000000001", "13800000000", "138****0000", "张三"])
def test_search_never_returns_another_countys_account(agent_b, account_a, account_b, query):
    html = results(client_for(agent_b), query)
    assert "0000000001" not in html.replace(f'value="{query}"', "")
    assert "找到 0 户" in html


def test_city_manager_finds_accounts_of_both_counties(manager, account_a, account_b):
    client = client_for(manager)
    assert "0000000001" in results(client, "张三")
    assert "0000000002" in results(client, "李四")


def test_htmx_gets_only_the_results_fragment(agent_a, account_a):
    response = client_for(agent_a).get(SEARCH, {"q": "张"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert "<html" not in html and "找到 1 户" in html
    assert "HX-Request" in response["Vary"]


def test_full_page_has_the_live_search_box(agent_a):
    html = results(client_for(agent_a), "")
    assert 'hx-get="/console/customers/"' in html and 'hx-target="#search-results"' in html
    assert "找到" not in html


def test_unrecognised_query_gets_a_chinese_explanation(agent_a, account_a):
    html = results(client_for(agent_a), "12345")
    assert "请输入 10 位户号" in html


def test_important_customer_is_badged(agent_a, company):
    make_account(number="0000000009", unit=company.county_a, holder_name="示范医院", phone="13811112222",
                 id_card=None, is_important=True)
    assert "重要客户" in results(client_for(agent_a), "示范")


def test_search_results_query_count_does_not_grow_with_results(agent_a, company, django_assert_max_num_queries):
    for n in range(30):
        make_account(number=f"10000000{n:02d}", unit=company.station_a, holder_name=f"赵{n}", id_card=None)
    client = client_for(agent_a)
    with django_assert_max_num_queries(4):  # session, user, user's unit, the search itself
        html = results(client, "赵", **{"HX-Request": "true"})
    assert "找到 30 户" in html
    with django_assert_max_num_queries(5):
        results(client, "赵")


def test_a_long_result_list_says_it_shows_only_the_first_fifty(agent_a, account_a):
    for n in range(2, 53):  # 张三 plus 51 more 张… : 52 matches
        make_account(number=f"{n:010d}", unit=account_a.supply_unit, holder_name=f"张{n}", phone=f"139{n:08d}")
    html = results(client_for(agent_a), "张")
    assert "仅显示前 50 户" in html and "请输入更完整的户名" in html
    assert html.count('href="/console/customers/00') == 50


def test_a_short_result_list_gives_the_count(agent_a, account_a):
    html = results(client_for(agent_a), "张")
    assert "找到 1 户" in html and "仅显示前" not in html
