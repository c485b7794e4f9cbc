"""What a broadcast needs from the WeChat API client: the client for its account, its message
(uploading the articles as an mpnews material when needed), and WeChat's answers in Chinese."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from powerdesk.broadcasts.choices import MessageKind
from powerdesk.broadcasts.models import Broadcast
from powerdesk.channels.wechat_store.client import MassMessage, MpNewsArticle, WeChatApiClient
from powerdesk.channels.wechat_store.errors import WeChatApiError
from powerdesk.channels.wechat_store.materials import MAX_IMAGE_BYTES, image_material_media_id
from powerdesk.channels.wechat_store.models import WeChatAccount
from powerdesk.content.choices import ArticleStatus
from powerdesk.content.markup import render_body
from powerdesk.content.models import Article
from powerdesk.core.exceptions import ApplicationError

# WeChat keeps an uploadnews material for 3 days; upload again when ours is older than this.
MEDIA_MAX_AGE = timedelta(days=2)

# MASSSENDJOBFINISH ``Status`` values other than success, as WeChat documents them.
REPORT_STATUS_TEXT = {
    "send fail": gettext_lazy("发送失败"),
    "err(10001)": gettext_lazy("涉嫌广告"),
    "err(20001)": gettext_lazy("涉嫌政治"),
    "err(20002)": gettext_lazy("涉嫌色情"),
    "err(20004)": gettext_lazy("涉嫌社会"),
    "err(20006)": gettext_lazy("涉嫌违法犯罪"),
    "err(20008)": gettext_lazy("涉嫌欺诈"),
    "err(20013)": gettext_lazy("涉嫌版权"),
    "err(21000)": gettext_lazy("涉嫌其他"),
    "err(22000)": gettext_lazy("涉嫌互推（互相宣传）"),
    "err(30001)": gettext_lazy("原创校验出现系统错误，且选择了被判为转载就不群发"),
    "err(30002)": gettext_lazy("原创校验被判定为不能群发"),
    "err(30003)": gettext_lazy("原创校验被判定为转载文，且选择了被判为转载就不群发"),
    "err(40001)": gettext_lazy("管理员拒绝"),
    "err(40002)": gettext_lazy("管理员 30 分钟内无响应，超时"),
}


def report_succeeded(status: str) -> bool:
    """``send success`` (WeChat also writes ``sendsuccess``)."""
    return status.strip().lower().replace(" ", "") == "sendsuccess"


def report_status_text(status: str) -> str:
    key = status.strip().lower()
    if report_succeeded(key):
        return _("发送成功")
    return str(REPORT_STATUS_TEXT.get(key, status))


def wechat_client(account: WeChatAccount) -> WeChatApiClient:
    return WeChatApiClient.from_settings(app_id=account.app_id, app_secret=account.app_secret)


def _article_url(broadcast: Broadcast, article: Article) -> str:
    """The 阅读原文 link: the article's H5 page, when the account knows where the H5 pages live."""
    base = broadcast.wechat_account.h5_base_url.rstrip("/")
    return f"{base}{article.get_absolute_url()}" if base else ""


def mpnews_media_ensure(broadcast: Broadcast, client: WeChatApiClient) -> str:
    """The broadcast's uploadnews media_id, uploading its articles (as they are now) when it has
    none or it is about to expire. Refuses when an article was unpublished since composing."""
    now = timezone.now()
    if (
        broadcast.media_id
        and broadcast.media_uploaded_at
        and now - broadcast.media_uploaded_at < MEDIA_MAX_AGE
    ):
        return broadcast.media_id
    ids = [item["id"] for item in broadcast.articles]
    found = {a.pk: a for a in Article.objects.filter(pk__in=ids)}
    for item in broadcast.articles:
        article = found.get(item["id"])
        if article is None or article.status != ArticleStatus.PUBLISHED:
            raise ApplicationError(
                "broadcast_article_unavailable",
                _("文章《%(title)s》已撤回或删除，不能群发；请重新编辑群发内容。") % {"title": item["title"]},
                field="articles",
            )
    media_id = client.uploadnews(
        [
            MpNewsArticle(
                title=found[pk].title,
                content=str(render_body(found[pk].body)),
                thumb_media_id=broadcast.thumb_media_id or cover_media_id(found[pk], client),
                digest=found[pk].summary,
                content_source_url=_article_url(broadcast, found[pk]),
            )
            for pk in ids
        ]
    )
    with transaction.atomic():
        Broadcast.objects.filter(pk=broadcast.pk).update(
            media_id=media_id, media_uploaded_at=now, updated_at=now
        )
    broadcast.media_id, broadcast.media_uploaded_at = media_id, now
    return media_id


def cover_media_id(article: Article, client: WeChatApiClient) -> str:
    """The article's cover image as a permanent image material of the account (uploaded the
    first time it is used, then reused: wechat_store/materials.py)."""
    refusal = None
    if not article.cover:
        refusal = _("文章《%(title)s》没有封面图片，请上传封面或填写封面图片素材的 media_id。")
    else:
        try:
            with article.cover.open("rb") as handle:
                content = handle.read(MAX_IMAGE_BYTES + 1)
            return image_material_media_id(client, content)
        except FileNotFoundError:
            refusal = _("文章《%(title)s》的封面图片文件已丢失，请重新上传封面。")
        except ValueError:
            refusal = _("文章《%(title)s》的封面不是微信接受的图片（PNG、JPEG、GIF 或 BMP，不超过 10 MB）。")
    raise ApplicationError("broadcast_cover_unusable", refusal % {"title": article.title}, field="articles")


def mass_message(broadcast: Broadcast, client: WeChatApiClient) -> MassMessage:
    if broadcast.message_kind == MessageKind.TEXT:
        return MassMessage.text(broadcast.text_content)
    return MassMessage.mpnews(mpnews_media_ensure(broadcast, client))


def api_error_text(exc: WeChatApiError) -> str:
    """A Chinese sentence for a refusal or failure of the WeChat API."""
    if exc.quota_exhausted:
        return _(
            "微信平台的群发配额已用完（错误码 45028）：已提交的批次不受影响，其余批次待配额恢复后点击“继续发送”。"
        )
    if exc.vendor_code.startswith("network.") or exc.vendor_code.startswith("http."):
        return _("无法连接微信接口（%(code)s），稍后将自动重试。") % {"code": exc.vendor_code}
    return _("微信接口返回错误（%(code)s）：%(detail)s") % {"code": exc.vendor_code, "detail": str(exc)[:300]}


def preview_refusal(exc: WeChatApiError) -> ApplicationError:
    """A refused preview as the error the form shows beside the openid (or above the form)."""
    if exc.errcode == 43004:
        return ApplicationError(
            "broadcast_preview_not_follower", _("该 OpenID 未关注本公众号，无法接收预览。"), field="openid"
        )
    if exc.errcode in (40003, 40032):
        return ApplicationError(
            "broadcast_preview_openid_invalid", _("OpenID 无效：不是本公众号的关注者。"), field="openid"
        )
    if exc.errcode == 40007:
        return ApplicationError(
            "broadcast_preview_media_invalid",
            _("微信不认可封面图片素材 media_id，请检查后重新编辑群发内容。"),
            field="openid",
        )
    return ApplicationError("broadcast_preview_failed", api_error_text(exc), field="openid", status=502)
