"""/healthz, /metrics, request guards and structured logs."""

import json
import logging

import pytest

from powerdesk.core.logging import JsonFormatter


@pytest.mark.django_db
def test_healthz_reports_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["database"] in {"sqlite", "postgresql"}


@pytest.mark.django_db
def test_metrics_count_requests_by_route(client):
    client.get("/healthz")
    body = client.get("/metrics").content.decode()
    assert 'powerdesk_http_requests_total{method="GET",route="healthz",status="200"}' in body
    assert "powerdesk_http_request_seconds_bucket" in body


def test_oversized_body_is_refused_before_any_view(client, settings):
    settings.MAX_REQUEST_BODY_BYTES = 2048
    response = client.post("/api/v1/auth/token", data=b"x" * 4096, content_type="application/json")
    assert response.status_code == 413
    assert response.json()["code"] == "body_too_large"


def test_non_utf8_body_is_refused_with_the_byte_position(client):
    response = client.post(
        "/api/v1/auth/token", data='{"a": "电费"}'.encode("gbk"), content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "body_not_utf8"
    assert "第 7 字节" in response.json()["message"]


def test_non_utf8_form_on_a_page_gets_a_chinese_plain_text_error(client):
    response = client.post(
        "/console/login/",
        data="username=\xff".encode("latin-1"),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400
    assert "UTF-8" in response.content.decode()


def test_json_log_lines_carry_extra_fields():
    record = logging.LogRecord("powerdesk.test", logging.INFO, __file__, 1, "请求 %s", ("完成",), None)
    record.route = "healthz"
    line = json.loads(JsonFormatter().format(record))
    assert line["msg"] == "请求 完成" and line["route"] == "healthz" and line["level"] == "INFO"
