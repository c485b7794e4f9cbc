"""Replies to life account followers, sent through ``alipay.open.public.message.custom.send``.

The gateway's answer to a push is only an ``ack``; every reply goes out this way, after the push
has been stored (``conversations.tasks.reply_deliver_task``). ``reply_send`` is the Alipay entry
of ``conversations.services.REPLY_SENDERS`` (registered in ``apps.py``).

How the engine's replies look on Alipay:

* text → a text message;
* link → a text message with each link's title and URL on its own line (Alipay's text messages
  have no anchors);
* articles → an image-text message (title, desc, url, image_url, action_name 查看详情);
* image → refused permanently: ``custom.send`` carries text and image-text only, and a WeChat
  media id means nothing to Alipay;
* nothing → nothing is sent.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from powerdesk.channels.alipay.client import AlipayApiError, AlipayOpenApiClient
from powerdesk.channels.alipay.models import AlipayLifeAccount
from powerdesk.conversations.choices import ReplyKind
from powerdesk.conversations.messages import Reply


def reply_text(reply: Reply) -> str:
    """The text of a text or link reply: the links' titles and URLs after the introduction."""
    if reply.kind != ReplyKind.LINK:
        return reply.text
    lines = [f"{link.title}：{link.url}" for link in reply.links]
    return "\n".join([reply.text, *lines]) if reply.text else "\n".join(lines)


def reply_articles(reply: Reply) -> list[dict[str, str]]:
    return [
        {
            "title": article.title,
            "desc": article.description,
            "url": article.url,
            "image_url": article.pic_url,
            "action_name": _("查看详情"),
        }
        for article in reply.articles
    ]


def reply_send(*, channel_account: str, recipient: str, reply: Reply) -> None:
    """Send ``reply`` to the follower ``recipient`` (an Alipay user id) of life account
    ``channel_account``; raises ``AlipayApiError`` (a ``ChannelError``) when it cannot go out."""
    account = AlipayLifeAccount.objects.filter(slug=channel_account).first()
    if account is None or not account.is_active:
        raise AlipayApiError(f"life account {channel_account!r} is missing or disabled", permanent=True)
    if reply.kind == ReplyKind.NOTHING:
        return
    if reply.kind == ReplyKind.IMAGE:
        raise AlipayApiError(
            "Alipay's custom.send carries text and image-text only; an image reply cannot go out",
            permanent=True,
            code="unsupported_reply",
        )
    client = AlipayOpenApiClient.for_account(account)
    if reply.kind == ReplyKind.ARTICLES:
        client.message_custom_send(to_user_id=recipient, articles=reply_articles(reply))
    else:
        client.message_custom_send(to_user_id=recipient, text=reply_text(reply))
