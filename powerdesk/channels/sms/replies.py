"""The engine's replies as SMS: text, links after it, the part count, through ``sms_send``.

SMS has no passive reply — the webhook's answer goes to the gateway, not to the handset — so the
business hall's every reply is deferred by the engine and sent after commit by
``conversations.tasks.reply_deliver_task``, which calls ``reply_send`` here (registered in
``conversations.services.REPLY_SENDERS`` by apps.py). A message acted on once is answered once.

The text goes out in the approved ``hall_reply`` template, 【sign】 first. When the whole message
is longer than one SMS it ends with "（共N条）", N counted on the message as sent, note included
(segments.py); a message that would pass the gateways' 500-character ceiling is cut, with "…".
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.utils.translation import gettext as _

from powerdesk.channels.base import ChannelError
from powerdesk.channels.sms import segments
from powerdesk.channels.sms.outbound import sms_send
from powerdesk.channels.sms.templates import template_get
from powerdesk.conversations.choices import ReplyKind
from powerdesk.conversations.messages import Reply

REPLY_TEMPLATE = "hall_reply"
MAX_ARTICLES_IN_SMS = 3  # an articles reply lists the first three: titles and links are long
ELLIPSIS = "…"


def reply_text(reply: Reply, *, links: bool = True) -> str:
    """What a reply says on SMS. Links follow the text as ``title：URL`` (or the title alone
    when ``links`` is off); articles become a numbered list."""
    if reply.kind == ReplyKind.ARTICLES:
        lines = [_("为您找到以下内容：")]
        for number, article in enumerate(reply.articles[:MAX_ARTICLES_IN_SMS], start=1):
            lines.append(f"{number}. {article.title}" + (f" {article.url}" if links and article.url else ""))
        return "\n".join(lines)
    if reply.kind == ReplyKind.IMAGE:
        raise ChannelError(
            "an image reply cannot be sent as SMS", permanent=True, vendor_code="sms.image_reply"
        )
    lines = [reply.text.strip()] if reply.text.strip() else []
    for link in reply.links:
        if links:
            lines.append(f"{link.title}：{link.url}")
        else:
            lines.append(_("%(title)s请登录网上营业厅。") % {"title": link.title})
    return "\n".join(lines)


def _parts_note(count: int) -> str:
    return _("（共%(count)s条）") % {"count": count}


def fit(text: str, *, body_of: Callable[[str], str]) -> str:
    """``text`` made ready to send: cut to the 500-character ceiling if need be, and ending with
    the number of parts when there is more than one. ``body_of`` gives the full message as the
    handset shows it (sign and template around the text), which is what is counted."""
    longest_note = _parts_note(9)  # 500 characters are at most 8 parts
    overhead = segments.length(body_of("x")) - 1
    room = segments.MAX_MESSAGE_CHARACTERS - overhead - segments.length(longest_note)
    if segments.length(text) > room:
        text = segments.truncate(text, room - segments.length(ELLIPSIS)).rstrip() + ELLIPSIS
    count = segments.part_count(body_of(text))
    # A handset's link detection must not take the note for part of a URL that ends the text.
    separator = "\n" if "://" in text.rsplit("\n", 1)[-1] else ""
    while count > 1:
        noted = text + separator + _parts_note(count)
        recount = segments.part_count(body_of(noted))
        if recount == count:
            return noted
        count = recount  # the note itself pushed the message into another part
    return text


def hall_message_body(text: str) -> str:
    """The message as the handset shows it: 【sign】 and the reply template around ``text``."""
    return f"【{settings.SMS_SIGN_NAME}】" + template_get(REPLY_TEMPLATE).render({"reply": text})


def reply_send(*, channel_account: str, recipient: str, reply: Reply) -> None:
    """Send one engine reply to ``recipient`` (an 11-digit phone); raises ``ChannelError``."""
    text = reply_text(reply, links=settings.SMS_REPLY_LINKS)
    if not text:
        raise ChannelError("the reply has no text to send", permanent=True, vendor_code="sms.empty_reply")
    sms_send(
        phone=recipient,
        template=REPLY_TEMPLATE,
        params={"reply": fit(text, body_of=hall_message_body)},
        purpose="sms.hall_reply",
    )
