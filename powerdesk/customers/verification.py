"""SMS one-time codes: rate-limited, expiring, single-use, compared in constant time.

A code is bound to a purpose and a context (e.g. the 户号 being bound), so a code sent for
one thing cannot be spent on another. Only an HMAC of the code is stored.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from powerdesk.channels.base import ChannelError
from powerdesk.channels.sms.outbound import sms_send
from powerdesk.core.exceptions import ApplicationError, RateLimited
from powerdesk.customers.choices import OtpPurpose
from powerdesk.customers.models import OtpChallenge

_PURPOSE_TEXT = {
    OtpPurpose.SIGN_IN: "登录",
    OtpPurpose.BIND_ACCOUNT: "绑定户号",
    OtpPurpose.CHANGE_PHONE: "更换手机号",
    OtpPurpose.CHANGE_EMAIL: "更换邮箱",
}


def _code_hash(code: str, *, phone: str, purpose: str, context: str) -> str:
    return salted_hmac("powerdesk.otp", f"{phone}|{purpose}|{context}|{code}", algorithm="sha256").hexdigest()


def otp_request(
    *, phone: str, purpose: OtpPurpose | str, context: str = "", ip: str | None = None
) -> OtpChallenge:
    """Create a challenge and text the code. Raises RateLimited when asked too often."""
    purpose = OtpPurpose(purpose)
    now = timezone.now()
    hour_ago = now - timedelta(hours=1)
    with transaction.atomic():
        latest = OtpChallenge.objects.filter(phone=phone, purpose=purpose).order_by("-created_at").first()
        interval = settings.OTP_RESEND_INTERVAL_SECONDS
        if latest and (now - latest.created_at).total_seconds() < interval:
            wait = interval - int((now - latest.created_at).total_seconds())
            raise RateLimited(
                "otp_too_frequent",
                _("验证码发送过于频繁，请 %(wait)s 秒后再试。") % {"wait": wait},
                field="phone",
                extra={"retry_after": wait},
            )
        if (
            OtpChallenge.objects.filter(phone=phone, created_at__gte=hour_ago).count()
            >= settings.OTP_MAX_PER_PHONE_PER_HOUR
        ):
            raise RateLimited(
                "otp_phone_hourly_limit",
                _("该手机号一小时内获取验证码次数已达上限，请稍后再试。"),
                field="phone",
            )
        if (
            ip
            and OtpChallenge.objects.filter(requested_ip=ip, created_at__gte=hour_ago).count()
            >= settings.OTP_MAX_PER_IP_PER_HOUR
        ):
            raise RateLimited("otp_ip_hourly_limit", _("当前网络获取验证码次数过多，请稍后再试。"))
        code = f"{secrets.randbelow(1_000_000):06d}"
        challenge = OtpChallenge.objects.create(
            phone=phone,
            purpose=purpose,
            context=context,
            requested_ip=ip,
            code_hash=_code_hash(code, phone=phone, purpose=purpose, context=context),
            created_at=now,
            expires_at=now + timedelta(seconds=settings.OTP_TTL_SECONDS),
        )
    # Sent after the challenge commits: the gateway call holds no database lock, and a refused
    # send keeps its OutboundSms record. The challenge of an undelivered code is withdrawn so
    # the customer may ask again at once.
    minutes = max(1, settings.OTP_TTL_SECONDS // 60)
    try:
        sms_send(
            phone=phone,
            template="otp",
            params={"action": _PURPOSE_TEXT[purpose], "code": code, "minutes": minutes},
            purpose=f"otp.{purpose}",
            sensitive=True,
        )
    except ChannelError as exc:
        OtpChallenge.objects.filter(pk=challenge.pk).delete()
        raise ApplicationError(
            "sms_send_failed",
            _("短信发送失败，请稍后再试。")
            if not exc.permanent
            else _("无法向该手机号发送短信，请核对号码或到营业厅办理。"),
            field="phone",
            status=503 if not exc.permanent else 400,
        ) from exc
    return challenge


def otp_verify(*, phone: str, purpose: OtpPurpose | str, code: str, context: str = "") -> OtpChallenge:
    """Spend the newest code for (phone, purpose). Every wrong try counts, even though we refuse."""
    purpose = OtpPurpose(purpose)
    code = (code or "").strip()
    if not (len(code) == 6 and code.isascii() and code.isdigit()):
        raise ApplicationError("otp_malformed", _("验证码应为 6 位数字。"), field="code")
    now = timezone.now()
    challenge = OtpChallenge.objects.filter(phone=phone, purpose=purpose).order_by("-created_at").first()
    if challenge is None:
        raise ApplicationError("otp_not_requested", _("请先获取短信验证码。"), field="code")
    if challenge.consumed_at is not None:
        raise ApplicationError("otp_used", _("该验证码已使用，请重新获取。"), field="code")
    if challenge.expires_at <= now:
        raise ApplicationError("otp_expired", _("验证码已过期，请重新获取。"), field="code")
    if challenge.attempts >= settings.OTP_MAX_ATTEMPTS:
        raise ApplicationError("otp_attempts_exhausted", _("验证码错误次数过多，请重新获取。"), field="code")
    expected = _code_hash(code, phone=phone, purpose=purpose, context=context)
    if not hmac.compare_digest(expected, challenge.code_hash):
        # Counted outside the caller's transaction would be ideal; the caller does not wrap
        # verification in one, so this update commits even though we raise.
        OtpChallenge.objects.filter(pk=challenge.pk).update(attempts=F("attempts") + 1)
        left = settings.OTP_MAX_ATTEMPTS - challenge.attempts - 1
        raise ApplicationError(
            "otp_wrong", _("验证码不正确，还可尝试 %(left)s 次。") % {"left": max(left, 0)}, field="code"
        )
    # Conditional update: two concurrent correct submissions spend the code once.
    spent = OtpChallenge.objects.filter(pk=challenge.pk, consumed_at__isnull=True).update(consumed_at=now)
    if not spent:
        raise ApplicationError("otp_used", _("该验证码已使用，请重新获取。"), field="code")
    challenge.consumed_at = now
    return challenge


# Rate limits look back one hour; a day more keeps the trail for support questions
# ("I never got the code") and no longer: each row holds a phone number.
OTP_KEEP = timedelta(days=1, hours=1)


def otp_challenges_purge(*, now=None) -> int:
    """Delete challenges older than ``OTP_KEEP``; returns how many."""
    cutoff = (now or timezone.now()) - OTP_KEEP
    return OtpChallenge.objects.filter(created_at__lt=cutoff).delete()[0]
