"""/api/v1/auth/: the token endpoint (OAuth 2.0 style), revocation, and SMS sign-in for the app."""

from __future__ import annotations

import base64
import binascii
import json
from urllib.parse import unquote

import pydantic
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Router
from ninja.errors import ValidationError

from powerdesk.access import services
from powerdesk.access.auth import PartnerTokenAuth
from powerdesk.access.schemas import (
    RevokeIn,
    RevokeOut,
    SmsCodeIn,
    SmsCodeOut,
    SmsSignInIn,
    TokenIn,
    TokenInfoOut,
    TokenOut,
)
from powerdesk.core.exceptions import ApplicationError
from powerdesk.customers.services import sign_in_code_request
from powerdesk.privacy.services import client_ip

router = Router(tags=["auth"])

_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _request_body(request: HttpRequest, schema: type[pydantic.BaseModel]):
    """Read a form-encoded (what OAuth 2.0 clients send) or JSON body into ``schema``."""
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body or b"{}")
        except ValueError as exc:
            raise ApplicationError("malformed_json", _("请求体不是有效的 JSON：%(error)s") % {"error": exc}) from None
        if not isinstance(data, dict):
            raise ApplicationError("malformed_json", _("请求体应为 JSON 对象。"))
    elif request.content_type in _FORM_TYPES:
        data = request.POST.dict()
    else:
        raise ApplicationError("unsupported_media_type",
                               _("请以 application/x-www-form-urlencoded 或 application/json 提交。"),
                               status=415)
    try:
        return schema.model_validate(data)
    except pydantic.ValidationError as exc:
        raise ValidationError(exc.errors(include_url=False, include_context=False, include_input=False)) from None


def _body_doc(schema: type[pydantic.BaseModel]) -> dict:
    body = {"schema": schema.model_json_schema()}
    return {"requestBody": {"required": True, "content": {"application/x-www-form-urlencoded": body,
                                                          "application/json": body}}}


def _basic_credentials(request: HttpRequest) -> tuple[str, str] | None:
    """Client id and secret from ``Authorization: Basic`` (RFC 6749 §2.3.1), if sent that way."""
    scheme, _sep, encoded = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise ApplicationError("invalid_client", _("Authorization: Basic 凭证格式不正确。"),
                               status=401) from None
    client_id, _sep, secret = decoded.partition(":")
    return unquote(client_id), unquote(secret)


def _token_out(grant: services.TokenGrant, response: HttpResponse) -> dict:
    # Token responses must not be cached by anything in between (RFC 6749 §5.1).
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    return {
        "access_token": grant.access_token, "token_type": grant.token_type, "expires_in": grant.expires_in,
        "refresh_token": grant.refresh_token, "scope": grant.scope or None,
    }


@router.post("/token", response=TokenOut, exclude_none=True, openapi_extra=_body_doc(TokenIn),
             summary="换取访问令牌（authorization_code / refresh_token / client_credentials）")
def token(request: HttpRequest, response: HttpResponse):
    payload: TokenIn = _request_body(request, TokenIn)
    if payload.grant_type == "authorization_code":
        grant = services.login_code_exchange(code=payload.code, client_id=payload.client_id,
                                               code_verifier=payload.code_verifier)
    elif payload.grant_type == "refresh_token":
        grant = services.refresh_token_rotate(refresh_token=payload.refresh_token, client_id=payload.client_id)
    elif payload.grant_type == "client_credentials":
        client_id, client_secret = _basic_credentials(request) or (payload.client_id, payload.client_secret)
        grant = services.partner_token_issue(client_id=client_id, client_secret=client_secret,
                                             scope=payload.scope)
    else:
        raise ApplicationError("unsupported_grant_type",
                               _("不支持的 grant_type：%(grant_type)s。") % {"grant_type": payload.grant_type[:32]},
                               field="grant_type")
    return _token_out(grant, response)


@router.post("/revoke", response=RevokeOut, openapi_extra=_body_doc(RevokeIn), summary="吊销令牌")
def revoke(request: HttpRequest):
    payload: RevokeIn = _request_body(request, RevokeIn)
    services.token_revoke(token=payload.token)
    return {"revoked": True}


@router.post("/sms-code", response=SmsCodeOut, summary="App 短信登录：发送验证码")
def sms_code(request: HttpRequest, payload: SmsCodeIn):
    phone_masked = sign_in_code_request(phone=payload.phone, ip=client_ip(request))
    return {"phone_masked": phone_masked, "expires_in": settings.OTP_TTL_SECONDS}


@router.post("/sms-sign-in", response=TokenOut, exclude_none=True, summary="App 短信登录：验证码换取令牌")
def sms_sign_in(request: HttpRequest, response: HttpResponse, payload: SmsSignInIn):
    grant = services.sms_code_exchange(phone=payload.phone, code=payload.code,
                                            client_id=payload.client_id)
    return _token_out(grant, response)


@router.get("/token-info", response=TokenInfoOut, auth=PartnerTokenAuth(), summary="合作方：当前令牌信息")
def token_info(request: HttpRequest):
    access = request.access_token
    return {"client_id": access.client.client_id, "name": access.client.name, "scopes": access.scopes,
            "expires_in": services.expires_in(access.expires_at)}
