"""Replies that go out through the WeChat API rather than in the callback's answer.

``reply_send`` is the WeChat entry of ``conversations.services.REPLY_SENDERS``: a deferred reply
(not ready within WeChat's 5 seconds) goes out as a customer-service message (客服消息), which
WeChat accepts within 48 hours of the follower's last message. ``reply_text`` is shared with the
passive replies in inbound.py, so a link reads the same either way.
"""

from __future__ import annotations

from html import escape

from powerdesk.channels.wechat_store.client import NewsArticle, WeChatApiClient
from powerdesk.channels.wechat_store.models import WeChatAccount
from powerdesk.conversations.choices import ReplyKind
from powerdesk.conversations.messages import Reply


def reply_text(reply: Reply) -> str:
    """The text of a text or link reply: WeChat shows ``<a href>`` in a text message as a link."""
    if reply.kind != ReplyKind.LINK:
        return reply.text
    anchors = "\n".join(
        f'<a href="{escape(link.url, quote=True)}">{escape(link.title, quote=False)}</a>'
        for link in reply.links
    )
    return f"{reply.text}\n{anchors}" if reply.text else anchors


def reply_send(*, channel_account: str, recipient: str, reply: Reply) -> None:
    """Send ``reply`` to the follower ``recipient`` (an openid) of the account ``channel_account``;
    raises ``WeChatApiError`` (a ``ChannelError``) when WeChat refuses."""
    account = WeChatAccount.objects.get(slug=channel_account)
    client = WeChatApiClient.from_settings(app_id=account.app_id, app_secret=account.app_secret)
    if reply.kind in (ReplyKind.TEXT, ReplyKind.LINK):
        client.custom_send_text(openid=recipient, content=reply_text(reply))
    elif reply.kind == ReplyKind.ARTICLES:
        first = reply.articles[0]  # a customer-service news message carries one article
        client.custom_send_news(
            openid=recipient,
            article=NewsArticle(
                title=first.title, description=first.description, url=first.url, picurl=first.pic_url
            ),
        )
    elif reply.kind == ReplyKind.IMAGE:
        client.custom_send_image(openid=recipient, media_id=reply.media_id)
