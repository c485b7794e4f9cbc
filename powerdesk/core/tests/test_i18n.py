"""English end to end: Chinese by default, English on request, and a complete, compiled catalogue.

The msgids are Chinese; ``powerdesk/locale/en/LC_MESSAGES/django.po`` holds the English and the
compiled ``django.mo`` beside it is what Django loads (both are committed: a fresh machine may
have no GNU gettext to compile with). After adding or changing a string:

    .venv/bin/python manage.py makemessages -l en --no-location --ignore=.venv --ignore=node_modules
        --ignore=var --ignore=bench --ignore='powerdesk/demo/*'     (one command)
    # translate the new entries, clear any "fuzzy" flag msgmerge added, then
    .venv/bin/python manage.py compilemessages --ignore=.venv
"""

from __future__ import annotations

import ast
import gettext
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation

LOCALE_DIR = Path(settings.LOCALE_PATHS[0]) / "en" / "LC_MESSAGES"
PO_PATH = LOCALE_DIR / "django.po"
MO_PATH = LOCALE_DIR / "django.mo"

CONSOLE_LOGIN = "/console/login/"
PORTAL_LOGIN = "/h5/login/"
SMS_CODE_URL = "/api/v1/auth/sms-code"


# --- the .po file, read by hand (polib is not a dependency) -----------------------------------


def _po_string(line: str) -> str:
    # PO strings use C escapes (\" \\ \n \t), which a Python string literal reads the same way.
    return ast.literal_eval(line)


def po_entries(path: Path = PO_PATH) -> list[dict]:
    """Entries of a .po file without plural forms or contexts: msgid, msgstr, flags."""
    entries: list[dict] = []
    entry: dict | None = None
    field = None
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        starts_entry = line.startswith("#") or line.startswith("msgid ")
        if not line or (entry is not None and field == "msgstr" and starts_entry):
            if entry is not None:
                entries.append(entry)
            entry, field = None, None
            if not line:
                continue
        if entry is None:
            entry = {"msgid": "", "msgstr": "", "flags": set()}
        if line.startswith("#,"):
            entry["flags"].update(flag.strip() for flag in line[2:].split(","))
        elif line.startswith("#"):
            continue
        elif line.startswith(("msgid_plural", "msgctxt", "msgstr[")):
            raise AssertionError(f"this reader handles no plurals or contexts: {line!r}")
        elif line.startswith("msgid "):
            field, entry["msgid"] = "msgid", _po_string(line[len("msgid ") :])
        elif line.startswith("msgstr "):
            field, entry["msgstr"] = "msgstr", _po_string(line[len("msgstr ") :])
        elif line.startswith('"') and field:
            entry[field] += _po_string(line)
        else:
            raise AssertionError(f"unexpected line in {path.name}: {raw!r}")
    if entry is not None:
        entries.append(entry)
    return entries


@pytest.fixture(scope="module")
def catalogue() -> list[dict]:
    entries = po_entries()
    assert entries and entries[0]["msgid"] == "", "the header comes first"
    return entries


# --- which language a page is in ---------------------------------------------------------------


def test_console_login_is_chinese_by_default(db):
    html = Client().get(CONSOLE_LOGIN).content.decode()
    assert '<html lang="zh-hans">' in html
    assert "用户名" in html and "密码" in html and "坐席工作台" in html
    assert "Username" not in html


@pytest.mark.parametrize("how", ["cookie", "accept_language"])
def test_console_login_in_english(db, how):
    client = Client()
    extra = {}
    if how == "cookie":
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    else:
        extra["HTTP_ACCEPT_LANGUAGE"] = "en-GB,en;q=0.9"
    html = client.get(CONSOLE_LOGIN, **extra).content.decode()
    assert '<html lang="en">' in html
    assert "Username" in html and "Password" in html and "PowerDesk Agent Console" in html
    assert "用户名" not in html and "密码" not in html


@pytest.mark.parametrize("how", ["cookie", "accept_language"])
def test_portal_login_in_english(db, how):
    client = Client()
    extra = {}
    if how == "cookie":
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    else:
        extra["HTTP_ACCEPT_LANGUAGE"] = "en"
    html = client.get(PORTAL_LOGIN, **extra).content.decode()
    assert '<html lang="en">' in html
    assert "Sign in with mobile number" in html and "Get code" in html and "Mobile number" in html
    assert "手机号登录" not in html and "获取验证码" not in html


def test_portal_login_is_chinese_by_default(db):
    html = Client().get(PORTAL_LOGIN).content.decode()
    assert "手机号登录" in html and "获取验证码" in html
    assert "Sign in with mobile number" not in html


def test_a_service_error_keeps_its_code_and_speaks_the_callers_language(db):
    body = {"phone": "12345"}
    chinese = Client().post(SMS_CODE_URL, body, content_type="application/json")
    english = Client().post(SMS_CODE_URL, body, content_type="application/json", HTTP_ACCEPT_LANGUAGE="en")
    assert chinese.status_code == english.status_code == 400
    assert chinese.json()["code"] == english.json()["code"]
    assert chinese.json()["field"] == english.json()["field"] == "phone"
    assert chinese.json()["message"] == "请输入有效的11位手机号码。"
    assert english.json()["message"] == "Please enter a valid 11-digit mobile number."


def test_api_refusals_outside_the_services_are_translated_too(db):
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    grant = client.post("/api/v1/auth/token", {"grant_type": "password"}, content_type="application/json")
    assert grant.json() == {
        "code": "unsupported_grant_type",
        "message": "Unsupported grant_type: password.",
        "field": "grant_type",
    }
    unauthenticated = client.get("/api/v1/me/")
    assert unauthenticated.status_code == 401
    assert unauthenticated.json()["message"] == "Not signed in, or the credentials are no longer valid."


def test_event_kinds_are_labelled_in_the_active_language():
    from powerdesk.customers import events

    with translation.override("en"):
        assert str(events.ACCOUNT_HOLDER_CHANGED.description) == "Change of account holder"
    with translation.override("zh-hans"):
        assert str(events.ACCOUNT_HOLDER_CHANGED.description) == "过户"


# --- the language switch -----------------------------------------------------------------------


@pytest.mark.parametrize("page", [CONSOLE_LOGIN, PORTAL_LOGIN])
def test_pages_offer_a_language_switch(db, page):
    html = Client().get(page).content.decode()
    assert 'action="/i18n/setlang/"' in html
    assert 'name="language" value="en"' in html and 'name="language" value="zh-hans"' in html


def test_switching_to_english_and_back(db):
    client = Client(enforce_csrf_checks=True)
    client.get(CONSOLE_LOGIN)
    token = client.cookies[settings.CSRF_COOKIE_NAME].value
    response = client.post(
        "/i18n/setlang/", {"language": "en", "next": CONSOLE_LOGIN, "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302 and response.url == CONSOLE_LOGIN
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert "Username" in client.get(CONSOLE_LOGIN).content.decode()
    client.post(
        "/i18n/setlang/", {"language": "zh-hans", "next": CONSOLE_LOGIN, "csrfmiddlewaretoken": token}
    )
    assert "用户名" in client.get(CONSOLE_LOGIN).content.decode()


def test_switching_refuses_an_offsite_next(db):
    response = Client().post("/i18n/setlang/", {"language": "en", "next": "https://evil.example/"})
    assert response.status_code == 302 and response.url == "/"


# --- the catalogue -----------------------------------------------------------------------------

_PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]|\{[a-z_]+\}|__s__")


def test_every_entry_is_translated_and_none_is_fuzzy(catalogue):
    assert "fuzzy" not in catalogue[0]["flags"], "the header must not be fuzzy (msgfmt would skip it)"
    assert "Language: en\n" in catalogue[0]["msgstr"]
    untranslated = [entry["msgid"] for entry in catalogue[1:] if not entry["msgstr"].strip()]
    fuzzy = [entry["msgid"] for entry in catalogue[1:] if "fuzzy" in entry["flags"]]
    assert not untranslated, f"untranslated: {untranslated}"
    assert not fuzzy, f"fuzzy: {fuzzy}"
    assert len(catalogue) > 400


def test_translations_keep_every_placeholder(catalogue):
    changed = [
        entry["msgid"]
        for entry in catalogue[1:]
        if sorted(_PLACEHOLDER.findall(entry["msgid"])) != sorted(_PLACEHOLDER.findall(entry["msgstr"]))
    ]
    assert not changed


def test_translations_contain_no_chinese(catalogue):
    # The English catalogue is English; Chinese left in a msgstr is a missed translation.
    han = re.compile(r"[\u4e00-\u9fff]")
    assert not [entry["msgid"] for entry in catalogue[1:] if han.search(entry["msgstr"])]


def test_compiled_catalogue_matches_the_po_file(catalogue):
    with MO_PATH.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    stale = [entry["msgid"] for entry in catalogue[1:] if compiled.gettext(entry["msgid"]) != entry["msgstr"]]
    assert not stale, f"django.mo is out of date; run compilemessages. Differs for: {stale[:5]}"
    po_ids = {entry["msgid"] for entry in catalogue}
    extra = set(compiled._catalog) - po_ids
    assert not extra, f"django.mo has entries the .po lacks: {sorted(extra)[:5]}"


# What makemessages reads (the same exclusions as the command in this module's docstring).
_SOURCE_ROOT = Path(settings.BASE_DIR)  # the powerdesk package
_NOT_SCANNED = ("demo", "static")
_GETTEXT_NAMES = {"_", "gettext", "gettext_lazy", "gettext_noop", "_lazy"}
_TEMPLATE_TRANSLATE = re.compile(r"""\{%\s*(?:translate|trans)\s+("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')""")


def _source_files(suffix: str):
    for path in sorted(_SOURCE_ROOT.rglob(f"*{suffix}")):
        parts = path.relative_to(_SOURCE_ROOT).parts
        if parts[0] in _NOT_SCANNED or "migrations" in parts:
            continue
        yield path


def _python_msgids() -> dict[str, str]:
    """Literal first arguments of ``_()``/``gettext()``/``gettext_lazy()`` calls → where."""
    found: dict[str, str] = {}
    for path in _source_files(".py"):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and node.args):
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
            first = node.args[0]
            if name in _GETTEXT_NAMES and isinstance(first, ast.Constant) and isinstance(first.value, str):
                found.setdefault(first.value, f"{path.relative_to(_SOURCE_ROOT)}:{node.lineno}")
    return found


def _template_msgids() -> dict[str, str]:
    """``{% translate "…" %}`` strings in the templates → where (blocktranslate is left to the
    placeholder test: its msgid is rewritten by makemessages)."""
    found: dict[str, str] = {}
    for path in _source_files(".html"):
        for match in _TEMPLATE_TRANSLATE.finditer(path.read_text(encoding="utf-8")):
            found.setdefault(_po_string(match.group(1)), str(path.relative_to(_SOURCE_ROOT)))
    return found


def test_every_string_marked_in_the_code_is_in_the_catalogue(catalogue):
    """A string marked for translation but missing from django.po shows in Chinese on English
    pages; makemessages would add it, this says which were forgotten and where."""
    known = {entry["msgid"] for entry in catalogue}
    marked = {**_template_msgids(), **_python_msgids()}
    assert len(marked) > 400  # the scan finds the project's strings at all
    missing = {msgid: where for msgid, where in marked.items() if msgid not in known}
    assert not missing, f"not in django.po (run makemessages, translate): {missing}"
