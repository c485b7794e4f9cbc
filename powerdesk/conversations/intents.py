"""One handler per ``Intent``: read the domain through its selectors, answer with a ``Reply``.

Account data (bill, balance, pay link) is answered only from the accounts actively bound to the
sender's customer user (``billing.reads.customer_accounts``); a sender we do not know, or who has
no bound account, gets the H5 binding link and nothing else. The intents whose systems do not
exist yet (outage notices, repair tickets) say so plainly instead of inventing an answer.

A command (engine step 3, e.g. the SMS ``CXDF 0000000001``) reaches its handler as a
``Command`` on the request: it asks about **one** account — the 户号 it names (which must be
bound to the sender), the only bound one, or, for a bill when the sender has several, a list to
choose from. The unsubscribe and resubscribe intents (SMS ``TD`` / ``DY``) are the handlers
that write: they record the sender's choice in the consent registry (``powerdesk.consent``)
inside the engine's transaction, so a retried message changes nothing twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.urls import reverse
from django.utils.translation import gettext as _

from powerdesk.billing.choices import BillStatus
from powerdesk.billing.reads import (
    account_balance,
    account_get_for_customer,
    customer_accounts_brief,
    fen_to_yuan,
)
from powerdesk.billing.selectors import BillWithStatus, newest_bill_with_status
from powerdesk.consent.choices import ConsentPurpose, ConsentSource
from powerdesk.consent.services import consent_opt_in, consent_opt_out
from powerdesk.conversations.choices import Intent, ReplyKind
from powerdesk.conversations.messages import ChannelContext, InboundMessage, Link, Reply
from powerdesk.conversations.sender import Sender
from powerdesk.core.exceptions import ApplicationError
from powerdesk.customers.models import Account, CustomerUser

log = logging.getLogger(__name__)

HOTLINE = "95598"
MAX_ACCOUNTS_IN_REPLY = 5  # a follower bound to more sees the first five and a link to all


@dataclass(frozen=True)
class Command:
    """What a command parser (engine step 3) understood: an intent and its arguments.

    ``account_number``: the 户号 named with the command, as typed (digits; the handler checks
    it). ``verb``: the command word to quote back when the reply asks which account (``CXDF``).
    """

    intent: Intent
    account_number: str = ""
    verb: str = ""


@dataclass(frozen=True)
class IntentRequest:
    message: InboundMessage
    sender: Sender  # its customer user is read when a handler first asks (sender.py)
    context: ChannelContext
    command: Command | None = None
    writes_allowed: bool = True

    @property
    def customer_user(self) -> CustomerUser | None:
        return self.sender.customer_user


class WritesNeeded(Exception):
    """The answer to this request writes, and the request allows no writes (engine, test box)."""

    def __init__(self, intent: Intent) -> None:
        super().__init__(intent)
        self.intent = intent


def _url(context: ChannelContext, viewname: str, *args: str) -> str:
    return context.site_url.rstrip("/") + reverse(viewname, args=args)


def _masked_name(name: str) -> str:
    """张三 → 张*, 欧阳小明 → 欧***: enough to tell one's own accounts apart."""
    return name[:1] + "*" * max(len(name) - 1, 1) if name else ""


def _account_line(account: Account) -> str:
    return _("户号 %(number)s（%(name)s）") % {
        "number": account.number,
        "name": _masked_name(account.holder_name),
    }


def _kwh(value: Decimal) -> str:
    """180.00 → "180", 180.50 → "180.5": kWh as a person writes them (Decimal, never float)."""
    return f"{value.normalize():f}"


def _bound_accounts(request: IntentRequest) -> list[Account] | None:
    if request.customer_user is None:
        return None
    return customer_accounts_brief(customer_user_id=request.customer_user.pk) or None


def binding_reply(request: IntentRequest, intent: Intent) -> Reply:
    """The only answer an unbound sender gets to a question about account data."""
    return Reply(
        kind=ReplyKind.LINK,
        text=_("查询电费、余额或缴费前，请先绑定您的户号（10 位，见电费单）。"),
        links=(Link(_("绑定户号"), _url(request.context, "portal:bind")),),
        intent=intent,
    )


def _more_accounts_note(accounts: list[Account]) -> str:
    if len(accounts) <= MAX_ACCOUNTS_IN_REPLY:
        return ""
    return "\n" + _("另有 %(count)s 个户号，请在微网页中查看。") % {
        "count": len(accounts) - MAX_ACCOUNTS_IN_REPLY
    }


_STATUS_TEXT = {
    BillStatus.PAID: lambda row: _("已缴清"),
    BillStatus.UNPAID: lambda row: _("未缴，待缴 %(owed)s 元") % {"owed": fen_to_yuan(row.outstanding_fen)},
    BillStatus.PARTIAL: lambda row: (
        _("部分缴纳，待缴 %(owed)s 元") % {"owed": fen_to_yuan(row.outstanding_fen)}
    ),
    BillStatus.OVERDUE: lambda row: (
        _("已逾期，待缴 %(owed)s 元") % {"owed": fen_to_yuan(row.outstanding_fen)}
    ),
}


def _bill_text(account: Account) -> str:
    """The newest bill of one account, as two lines: the account, then the bill."""
    return _bill_lines(account, newest_bill_with_status(account.pk))


def _bill_lines(account: Account, row: BillWithStatus | None) -> str:
    if row is None:
        return _account_line(account) + "\n" + _("暂无电费账单。")
    return (
        _account_line(account)
        + "\n"
        + _("%(year)s年%(month)s月电费 %(amount)s 元，用电 %(kwh)s 千瓦时，%(status)s，缴费截止 %(due)s。")
        % {
            "year": row.bill.period.year,
            "month": row.bill.period.month,
            "amount": fen_to_yuan(row.bill.amount_fen),
            "kwh": _kwh(row.bill.kwh_total),
            "status": _STATUS_TEXT[BillStatus(row.status)](row),
            "due": row.bill.due_date.isoformat(),
        }
    )


def _named_account(request: IntentRequest, intent: Intent) -> Account | Reply:
    """The account a command names, if it is bound to the sender; else the reply saying why not.

    Not bound, ended and nonexistent read the same (``account_get_for_customer``), so the
    answer never tells a sender that someone else's 户号 exists.
    """
    try:
        return account_get_for_customer(
            customer_user=request.customer_user, number=request.command.account_number
        )
    except ApplicationError as exc:
        if exc.code != "account_not_bound":  # not ten digits
            return Reply.text_reply(
                _("户号应为10位数字（见电费单），例如：%(verb)s 0000000001") % {"verb": request.command.verb},
                intent=intent,
            )
        return Reply(
            kind=ReplyKind.LINK,
            text=exc.message + _("如需查询该户号，请先绑定。"),
            links=(Link(_("绑定户号"), _url(request.context, "portal:bind")),),
            intent=intent,
        )


def _bill_reply(request: IntentRequest, text: str) -> Reply:
    return Reply(
        kind=ReplyKind.LINK,
        text=text,
        links=(Link(_("查看账单明细"), _url(request.context, "portal:billing")),),
        intent=Intent.BILL,
    )


def _bill_for_command(request: IntentRequest, accounts: list[Account]) -> Reply:
    """A command asks about one account: the named one, the only one, or which one."""
    if request.command.account_number:
        account = _named_account(request, Intent.BILL)
        if isinstance(account, Reply):
            return account
        return _bill_reply(request, _bill_text(account))
    if len(accounts) == 1:
        return _bill_reply(request, _bill_text(accounts[0]))
    verb = request.command.verb
    lines = [_account_line(account) for account in accounts[:MAX_ACCOUNTS_IN_REPLY]]
    return Reply.text_reply(
        _("您绑定了 %(count)s 个户号，请回复“%(verb)s 户号”查询其中一个，例如“%(verb)s %(number)s”：")
        % {"count": len(accounts), "verb": verb, "number": accounts[0].number}
        + "\n"
        + "\n".join(lines)
        + _more_accounts_note(accounts),
        intent=Intent.BILL,
    )


def bill(request: IntentRequest) -> Reply:
    if request.command is not None:
        accounts = _bound_accounts(request)
        if accounts is None:
            return binding_reply(request, Intent.BILL)
        return _bill_for_command(request, accounts)
    # The sender, their accounts and the newest bills in one statement: this answers most messages.
    rows = request.sender.newest_bills(bills_for=MAX_ACCOUNTS_IN_REPLY)
    if not rows:  # a stranger, or a customer without bound accounts
        return binding_reply(request, Intent.BILL)
    lines = [_bill_lines(row.account, row.newest) for row in rows[:MAX_ACCOUNTS_IN_REPLY]]
    return _bill_reply(request, "\n\n".join(lines) + _more_accounts_note([row.account for row in rows]))


def _balance_line(account: Account) -> str:
    figures = account_balance(account=account)
    if figures.owed_fen:
        state = _("当前欠费 %(amount)s 元") % {"amount": fen_to_yuan(figures.owed_fen)}
    elif figures.credit_fen:
        state = _("预存余额 %(amount)s 元") % {"amount": fen_to_yuan(figures.credit_fen)}
    else:
        state = _("无欠费，无预存余额")
    return _("%(account)s：%(state)s。") % {"account": _account_line(account), "state": state}


def balance(request: IntentRequest) -> Reply:
    accounts = _bound_accounts(request)
    if accounts is None:
        return binding_reply(request, Intent.BALANCE)
    if request.command is not None and request.command.account_number:
        account = _named_account(request, Intent.BALANCE)
        if isinstance(account, Reply):
            return account
        return Reply.text_reply(_balance_line(account), intent=Intent.BALANCE)
    lines = [_balance_line(account) for account in accounts[:MAX_ACCOUNTS_IN_REPLY]]
    return Reply.text_reply("\n".join(lines) + _more_accounts_note(accounts), intent=Intent.BALANCE)


def pay(request: IntentRequest) -> Reply:
    accounts = _bound_accounts(request)
    if accounts is None:
        return binding_reply(request, Intent.PAY)
    shown = accounts[:MAX_ACCOUNTS_IN_REPLY]
    links = tuple(
        Link(
            _("缴纳户号 %(number)s 的电费") % {"number": account.number},
            _url(request.context, "portal:pay", account.number),
        )
        for account in shown
    )
    return Reply(
        kind=ReplyKind.LINK,
        text=_("点击下方链接，在线缴纳电费：") + _more_accounts_note(accounts),
        links=links,
        intent=Intent.PAY,
    )


def outage(request: IntentRequest) -> Reply:
    return Reply(
        kind=ReplyKind.LINK,
        text=_(
            "停电信息查询功能即将上线，届时可按户号或位置查询计划停电和故障停电。"
            "如遇突发停电，请拨打 %(hotline)s 供电服务热线。"
        )
        % {"hotline": HOTLINE},
        links=(Link(_("打开网上营业厅"), _url(request.context, "portal:home")),),
        intent=Intent.OUTAGE,
    )


def repair(request: IntentRequest) -> Reply:
    return Reply.text_reply(
        _(
            "故障报修请拨打 %(hotline)s 供电服务热线（24 小时），工作人员会尽快安排抢修。"
            "在线报修工单功能即将上线。"
        )
        % {"hotline": HOTLINE},
        intent=Intent.REPAIR,
    )


def human(request: IntentRequest) -> Reply:
    return Reply.text_reply(
        _(
            "人工服务请拨打 %(hotline)s 供电服务热线（24 小时）。"
            "在线人工客服即将上线，您也可以直接留言，我们会在工作时间查看。"
        )
        % {"hotline": HOTLINE},
        intent=Intent.HUMAN,
    )


_channel_menus: dict[str, Callable[[], str]] = {}


def channel_menu_register(channel: str, menu: Callable[[], str]) -> None:
    """A channel whose commands differ from the keyword menu (SMS) supplies its own help text;
    the menu and greeting intents and the engine's fallback use it for that channel."""
    _channel_menus[str(channel)] = menu


def menu_text(channel: str = "") -> str:
    channel_menu = _channel_menus.get(str(channel))
    if channel_menu is not None:
        return channel_menu()
    return _(
        "您可以回复以下关键词：\n"
        "【电费】查询本月电费账单\n"
        "【余额】查询账户余额\n"
        "【缴费】在线缴纳电费\n"
        "【停电】停电信息\n"
        "【报修】故障报修\n"
        "【人工】人工服务\n"
        "供电服务热线：%(hotline)s"
    ) % {"hotline": HOTLINE}


def greeting(request: IntentRequest) -> Reply:
    welcome = request.context.greeting.strip() or _(
        "感谢关注！我们为您提供电费查询、在线缴费、停电信息和故障报修服务。"
    )
    return Reply.text_reply(welcome + "\n\n" + menu_text(request.message.channel), intent=Intent.GREETING)


def menu(request: IntentRequest) -> Reply:
    return Reply.text_reply(menu_text(request.message.channel), intent=Intent.MENU)


def silent(request: IntentRequest) -> Reply:
    return Reply.nothing(intent=Intent.SILENT)


def _consent_change(
    request: IntentRequest, intent: Intent, record: Callable[..., object], *, done: str, failed: str
) -> Reply:
    """Record the sender's own marketing choice on this channel (consent registry) and confirm.

    Writes, in the engine's transaction: a retried message is deduplicated before it gets here,
    and asking again for the state the address is already in changes nothing but is confirmed
    again (``consent.services``).
    """
    message = request.message
    try:
        record(
            channel=message.channel,
            address=message.sender.subject,
            purpose=ConsentPurpose.MARKETING,
            source=ConsentSource.REPLY,
            customer_user_id=request.customer_user.pk if request.customer_user else None,
            note=_("渠道消息 %(key)s") % {"key": message.dedup_key[:80]},
        )
    except ApplicationError as exc:  # an address the registry cannot hold: say so, do not pretend
        log.warning(
            "consent change not recorded",
            extra={"channel": message.channel, "intent": intent.value, "code": exc.code, "field": exc.field},
        )
        return Reply.text_reply(failed % {"hotline": HOTLINE}, intent=intent)
    return Reply.text_reply(done % {"hotline": HOTLINE}, intent=intent)


def unsubscribe(request: IntentRequest) -> Reply:
    """退订 (SMS ``TD``): the sender's address on this channel stops receiving marketing."""
    if request.message.channel == "sms":  # the SMS hall has a command to undo it (DY)
        again = _("回复DY可恢复接收。")
    else:
        again = _("恢复接收请拨%(hotline)s。")
    return _consent_change(
        request,
        Intent.UNSUBSCRIBE,
        consent_opt_out,
        done=_("您已退订营销信息，今后不再向您发送营销内容；账单、停电等服务通知不受影响。") + again,
        failed=_("退订未能完成，请拨打 %(hotline)s 供电服务热线办理。"),
    )


def resubscribe(request: IntentRequest) -> Reply:
    """订阅 (SMS ``DY``): the sender asks, from this address, to receive marketing again.

    The message itself is the agreement: it came from the address it covers (the registry
    records it with source "reply" and the message's key).
    """
    return _consent_change(
        request,
        Intent.RESUBSCRIBE,
        consent_opt_in,
        done=_("您已恢复接收营销信息（优惠活动、节能资讯等）。如需退订，回复TD即可。")
        if request.message.channel == "sms"
        else _("您已恢复接收营销信息（优惠活动、节能资讯等）。"),
        failed=_("恢复接收未能完成，请拨打 %(hotline)s 供电服务热线办理。"),
    )


HANDLERS: dict[Intent, Callable[[IntentRequest], Reply]] = {
    Intent.BILL: bill,
    Intent.BALANCE: balance,
    Intent.PAY: pay,
    Intent.OUTAGE: outage,
    Intent.REPAIR: repair,
    Intent.HUMAN: human,
    Intent.GREETING: greeting,
    Intent.MENU: menu,
    Intent.SILENT: silent,
    Intent.UNSUBSCRIBE: unsubscribe,
    Intent.RESUBSCRIBE: resubscribe,
}


# Handlers that write (everything else only reads): the engine stores the message before
# calling these, in the same transaction, so that a retried message never acts twice.
WRITING_INTENTS = frozenset({Intent.UNSUBSCRIBE, Intent.RESUBSCRIBE})


def answer(intent: Intent | str, request: IntentRequest) -> Reply:
    intent = Intent(intent)
    if intent in WRITING_INTENTS and not request.writes_allowed:
        raise WritesNeeded(intent)
    return HANDLERS[intent](request)
