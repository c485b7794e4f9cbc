"""Signing in and out of the console: argon2 passwords, lock-out, session cycling, redirects."""

import pytest
from django.test import Client
from django.urls import reverse

from powerdesk.core.testing import STAFF_PASSWORD
from powerdesk.staff.models import StaffUser

LOGIN = "/console/login/"


def test_login_page_is_chinese(db):
    response = Client().get(LOGIN)
    assert response.status_code == 200
    html = response.content.decode()
    assert "坐席工作台" in html and "用户名" in html and "密码" in html


def test_staff_signs_in_with_argon2_password_and_lands_on_home(agent_a):
    assert agent_a.password.startswith("argon2")
    client = Client()
    response = client.post(LOGIN, {"username": "agent_a", "password": STAFF_PASSWORD})
    assert response.status_code == 302 and response.url == reverse("console:home")
    home = client.get(response.url)
    assert home.status_code == 200 and "您好，agent_a" in home.content.decode()


def test_signing_in_cycles_the_session_key(agent_a):
    client = Client()
    client.get(LOGIN)
    session = client.session
    session["probe"] = "before"
    session.save()
    before = session.session_key
    client.post(LOGIN, {"username": "agent_a", "password": STAFF_PASSWORD})
    assert client.session.session_key != before


def test_wrong_password_is_refused_with_the_same_message_as_unknown_user(agent_a):
    wrong = Client().post(LOGIN, {"username": "agent_a", "password": "not-the-password"})
    unknown = Client().post(LOGIN, {"username": "nobody", "password": "not-the-password"})
    for response in (wrong, unknown):
        assert response.status_code == 200
        assert "用户名或密码错误。" in response.content.decode()
    assert "_auth_user_id" not in Client().session


def test_repeated_failures_lock_the_account_even_for_the_right_password(agent_a, settings):
    settings.STAFF_LOGIN_MAX_FAILURES = 3
    client = Client()
    for _ in range(3):
        client.post(LOGIN, {"username": "agent_a", "password": "wrong-password-1"})
    response = client.post(LOGIN, {"username": "agent_a", "password": STAFF_PASSWORD})
    assert response.status_code == 200
    assert "登录失败次数过多，账号已锁定" in response.content.decode()
    assert client.get("/console/").status_code == 302
    assert StaffUser.objects.get(pk=agent_a.pk).locked_until is not None


def test_next_is_followed_only_within_the_site(agent_a):
    client = Client()
    response = client.post(f"{LOGIN}?next=/console/customers/", {"username": "agent_a", "password": STAFF_PASSWORD})
    assert response.url == "/console/customers/"
    client.post("/console/logout/")
    response = client.post(LOGIN, {"username": "agent_a", "password": STAFF_PASSWORD,
                                   "next": "https://evil.example/steal"})
    assert response.url == reverse("console:home")


@pytest.mark.parametrize("path", ["/console/", "/console/customers/", "/console/customers/0000000001/",
                                  "/console/audit/", "/console/events/", "/console/sms/", "/console/staff/",
                                  "/console/organisation/"])
def test_every_page_requires_sign_in(db, path):
    response = Client().get(path)
    assert response.status_code == 302
    assert response.url == f"{LOGIN}?next={path}"


def test_htmx_request_without_session_is_told_to_navigate_to_login(db):
    response = Client().get("/console/customers/?q=张", headers={"HX-Request": "true"})
    assert response.status_code == 401 and response["HX-Redirect"] == LOGIN


def test_logout_is_post_only_and_ends_the_session(agent_a):
    client = Client()
    client.post(LOGIN, {"username": "agent_a", "password": STAFF_PASSWORD})
    assert client.get("/console/logout/").status_code == 405
    response = client.post("/console/logout/")
    assert response.status_code == 302 and response.url == LOGIN
    assert client.get("/console/").status_code == 302


def test_signed_in_user_visiting_login_goes_home(agent_a):
    client = Client()
    client.force_login(agent_a)
    assert client.get(LOGIN).url == reverse("console:home")


def test_deactivated_staff_is_sent_back_to_login(agent_a):
    client = Client()
    client.force_login(agent_a)
    StaffUser.objects.filter(pk=agent_a.pk).update(is_active=False)
    assert client.get("/console/").status_code == 302
