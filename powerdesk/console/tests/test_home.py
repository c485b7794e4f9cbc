"""工作台首页: greeting, role, unit, and only the figures the role may see."""

from powerdesk.console.tests.helpers import client_for


def test_agent_home_greets_and_counts_customers_in_scope(agent_a, account_a, account_b, customer):
    html = client_for(agent_a).get("/console/").content.decode()
    assert "您好，agent_a" in html and "客服坐席" in html and "上城区供电公司" in html
    assert "辖区用电户" in html and "有效绑定" in html
    assert "今日事件" not in html and "今日个人信息访问" not in html and "辖区员工" not in html


def test_analyst_home_shows_no_customer_figures(analyst, account_a):
    html = client_for(analyst).get("/console/").content.decode()
    assert "数据分析师" in html and "今日事件" in html
    assert "辖区用电户" not in html


def test_admin_home_shows_every_figure(admin_user, account_a):
    html = client_for(admin_user).get("/console/").content.decode()
    for label in ("辖区用电户", "重要客户", "今日个人信息访问", "今日事件", "今日短信", "辖区员工"):
        assert label in html, label


def test_counts_respect_scope(agent_b, account_a, account_b):
    html = client_for(agent_b).get("/console/").content.decode()
    figure = html.split("辖区用电户")[1].split("stat-value")[1]
    assert ">1<" in figure
