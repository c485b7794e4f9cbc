"""WeChat's errcodes as ``ChannelError(permanent=…)``: what a caller may retry, and when.

WeChat answers HTTP 200 with ``{"errcode": N, "errmsg": "…"}``. The table below names every code
our endpoints are documented to return; codes not in it are classed by family: 45xxx are
frequency and quota limits (transient), other 4xxxx are faults in our request or configuration
(permanent), anything else (``-1`` system busy, 5xxxx/6xxxx internal) is transient.

Three kinds of transient failure differ in *when* a retry helps, given as ``retry_after``:

* ``None`` — at once or with the caller's usual backoff (``-1`` system busy, HTTP 5xx, timeouts);
* a number of seconds — not before then (``45011`` per-minute limit: 60 s; ``45009`` daily quota:
  until midnight Beijing time, when WeChat resets it);
* ``45028`` (no mass-send quota left) — not this quota period; ``retry_after`` is ``None`` and
  ``quota_exhausted`` is set so that the mass-send scheduler parks the job instead of looping.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from powerdesk.channels.base import ChannelError

BEIJING = ZoneInfo("Asia/Shanghai")

# access_token invalid (40001), illegal (40014) or expired (42001): refresh once and retry once.
TOKEN_ERRCODES = frozenset({40001, 40014, 42001})
# The mass-send task with this clientmsgid exists already: its msg_id is in the answer.
CLIENTMSGID_EXISTS = 45065
MENU_NOT_FOUND = 46003


@dataclass(frozen=True)
class ErrcodeRule:
    permanent: bool
    meaning: str
    retry_after: int | None = None  # seconds; see the module docstring
    quota_exhausted: bool = False


ERRCODES: dict[int, ErrcodeRule] = {
    -1: ErrcodeRule(False, "系统繁忙 system busy"),
    40001: ErrcodeRule(False, "access_token 无效（已刷新一次仍失败） invalid credential"),
    40002: ErrcodeRule(True, "grant_type 不合法"),
    40003: ErrcodeRule(True, "OpenID 不合法 invalid openid"),
    40004: ErrcodeRule(True, "媒体文件类型不合法"),
    40007: ErrcodeRule(True, "media_id 不合法"),
    40013: ErrcodeRule(True, "AppID 不合法 invalid appid"),
    40014: ErrcodeRule(False, "access_token 不合法（已刷新一次仍失败）"),
    40016: ErrcodeRule(True, "菜单按钮个数不合法"),
    40017: ErrcodeRule(True, "菜单按钮类型不合法"),
    40018: ErrcodeRule(True, "菜单按钮名字长度不合法"),
    40019: ErrcodeRule(True, "菜单按钮 KEY 长度不合法"),
    40020: ErrcodeRule(True, "菜单按钮 URL 长度不合法"),
    40023: ErrcodeRule(True, "子菜单按钮个数不合法"),
    40024: ErrcodeRule(True, "子菜单按钮类型不合法"),
    40025: ErrcodeRule(True, "子菜单按钮名字长度不合法"),
    40026: ErrcodeRule(True, "子菜单按钮 KEY 长度不合法"),
    40027: ErrcodeRule(True, "子菜单按钮 URL 长度不合法"),
    40029: ErrcodeRule(True, "网页授权 code 无效 invalid code"),
    40032: ErrcodeRule(True, "OpenID 列表长度不合法"),
    40037: ErrcodeRule(True, "模板 ID 不合法 invalid template_id"),
    40125: ErrcodeRule(True, "AppSecret 不合法 invalid appsecret"),
    40130: ErrcodeRule(True, "按 OpenID 群发至少需要两个 OpenID"),
    40163: ErrcodeRule(True, "网页授权 code 已被使用 code been used"),
    40164: ErrcodeRule(True, "调用接口的 IP 不在白名单中"),
    41001: ErrcodeRule(True, "缺少 access_token 参数"),
    42002: ErrcodeRule(True, "refresh_token 超时"),
    43004: ErrcodeRule(True, "用户未关注公众号 require subscribe"),
    44002: ErrcodeRule(True, "POST 数据包为空"),
    45008: ErrcodeRule(True, "图文消息的文章数超过限制 article size out of limit"),
    45009: ErrcodeRule(False, "接口调用超过当日限额 reach max api daily quota limit"),
    45011: ErrcodeRule(False, "接口调用过于频繁 api minute-quota reach limit", retry_after=60),
    45015: ErrcodeRule(True, "回复时间超过限制（客服消息窗口已过） response out of time limit"),
    45028: ErrcodeRule(False, "群发配额已用完 has no masssend quota", quota_exhausted=True),
    45047: ErrcodeRule(True, "客服消息下行条数超过上限 out of response count limit"),
    45056: ErrcodeRule(True, "标签数量已达上限"),
    45066: ErrcodeRule(False, "相同 clientmsgid 重试过快，请间隔 1 分钟", retry_after=60),
    45067: ErrcodeRule(True, "clientmsgid 长度超过限制"),
    45059: ErrcodeRule(True, "该粉丝的标签数已达上限"),
    45157: ErrcodeRule(True, "标签名已存在"),
    45158: ErrcodeRule(True, "标签名长度超过 30 个字节"),
    45159: ErrcodeRule(True, "标签 ID 不合法 invalid tag id"),
    46003: ErrcodeRule(True, "菜单不存在 menu no exist"),
    44003: ErrcodeRule(True, "图文消息内容为空"),
    47001: ErrcodeRule(True, "JSON/XML 内容解析错误 data format error"),
    48001: ErrcodeRule(True, "接口未授权 api unauthorized"),
    50001: ErrcodeRule(True, "用户未授权该接口"),
    50002: ErrcodeRule(True, "用户受限"),
    61500: ErrcodeRule(True, "日期格式错误"),
    61501: ErrcodeRule(True, "日期范围错误"),
}


def rule_for(errcode: int) -> ErrcodeRule:
    rule = ERRCODES.get(errcode)
    if rule is not None:
        return rule
    if 45000 <= errcode < 46000:
        return ErrcodeRule(False, "调用频率或配额限制")
    if 40000 <= errcode < 50000:
        return ErrcodeRule(True, "请求或配置错误")
    return ErrcodeRule(False, "微信系统错误")


class WeChatApiError(ChannelError):
    """WeChat refused or failed a call. ``vendor_code`` is the errcode as text, or
    ``http.<status>`` / ``network.timeout`` / ``network.unreachable`` / ``network.error`` /
    ``response.invalid`` when no errcode came back."""

    def __init__(
        self,
        message: str,
        *,
        permanent: bool,
        vendor_code: str,
        endpoint: str,
        errcode: int | None = None,
        retry_after: int | None = None,
        quota_exhausted: bool = False,
    ) -> None:
        super().__init__(message, permanent=permanent, vendor_code=vendor_code)
        self.endpoint = endpoint
        self.errcode = errcode
        self.retry_after = retry_after
        self.quota_exhausted = quota_exhausted


def error_for_errcode(
    errcode: int, errmsg: str, *, endpoint: str, now: datetime | None = None
) -> WeChatApiError:
    rule = rule_for(errcode)
    retry_after = rule.retry_after
    if errcode == 45009:
        retry_after = seconds_until_beijing_midnight(now or datetime.now(BEIJING))
    return WeChatApiError(
        f"{endpoint}: errcode {errcode} {rule.meaning} ({errmsg})",
        permanent=rule.permanent,
        vendor_code=str(errcode),
        endpoint=endpoint,
        errcode=errcode,
        retry_after=retry_after,
        quota_exhausted=rule.quota_exhausted,
    )


def seconds_until_beijing_midnight(now: datetime) -> int:
    local = now.astimezone(BEIJING)
    midnight = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(1, int((midnight - local).total_seconds()))
