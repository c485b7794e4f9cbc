"""Console pages of 公众号运营: keyword auto-replies (rules, test box, greeting and default reply)
and the message inbox (留言). Thin: parse, call one service or selector, render.

Keyword pages need WECHAT_KEYWORDS_MANAGE; the inbox needs WECHAT_INBOX_REPLY and shows only
threads in the staff member's scope (selectors.scope_threads; out of scope answers 404).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from powerdesk.channels.wechat_store.models import WeChatAccount
from powerdesk.console.forms import add_application_error
from powerdesk.console.htmx import render_page
from powerdesk.console.permissions import requires
from powerdesk.conversations import inbox, selectors, services
from powerdesk.conversations.choices import Direction, RuleReplyKind
from powerdesk.conversations.forms import (
    AssignForm,
    AutoReplyForm,
    InboxFilterForm,
    KeywordFilterForm,
    KeywordRuleForm,
    KeywordTestForm,
    StaffReplyForm,
    StatusForm,
)
from powerdesk.conversations.messages import ChannelContext, InboundMessage, SenderIdentity
from powerdesk.conversations.models import intent_label
from powerdesk.core.exceptions import ApplicationError, NotFound
from powerdesk.events.choices import Channel
from powerdesk.staff.models import StaffUser
from powerdesk.staff.roles import Perm

PAGE_SIZE = 30


def _accounts() -> list[WeChatAccount]:
    return list(WeChatAccount.objects.order_by("-is_active", "slug"))


def _account(request: HttpRequest, accounts: list[WeChatAccount]) -> WeChatAccount | None:
    """The account named by ``?account=`` (or the form's), else the first one; 404 for a name
    that does not exist."""
    slug = request.GET.get("account") or request.POST.get("account") or ""
    if not slug:
        return accounts[0] if accounts else None
    for account in accounts:
        if account.slug == slug:
            return account
    raise NotFound("account_not_found", _("没有这个公众号。"))


def _site_url(request: HttpRequest, account: WeChatAccount) -> str:
    """Where our H5 pages are, for links in replies: the account's setting, else this site."""
    return account.h5_base_url or f"{request.scheme}://{request.get_host()}"


def _keywords_url(account: WeChatAccount) -> str:
    return f"{reverse('console:wechat_keywords')}?account={account.slug}"


# --- keyword rules -----------------------------------------------------------------------------


@require_GET
@requires(Perm.WECHAT_KEYWORDS_MANAGE)
def keyword_list(request: HttpRequest) -> HttpResponse:
    accounts = _accounts()
    account = _account(request, accounts)
    form = KeywordFilterForm(request.GET)
    page = None
    if account is not None:
        filters = form.cleaned_data if form.is_valid() else {}
        active = {"1": True, "0": False}.get(filters.get("active", ""))
        rules = selectors.keyword_rules(
            channel=Channel.WECHAT,
            channel_account=account.slug,
            match_kind=filters.get("match_kind", ""),
            reply_kind=filters.get("reply_kind", ""),
            active=active,
            query=filters.get("q", ""),
            order=filters.get("order") or "priority",
        )
        page = Paginator(rules, PAGE_SIZE).get_page(request.GET.get("page"))
    return render_page(
        request,
        "conversations/console/keyword_list.html",
        {
            "accounts": accounts,
            "account": account,
            "form": form,
            "page": page,
            "test_form": KeywordTestForm(),
        },
    )


def _rule_fields(request: HttpRequest, account: WeChatAccount, data: dict) -> dict:
    fields = {
        "match_kind": data["match_kind"],
        "pattern": data["pattern"],
        "priority": data["priority"],
        "reply_kind": data["reply_kind"],
        "reply_text": data["reply_text"],
        "reply_media_id": data["reply_media_id"],
        "reply_intent": data["reply_intent"],
        "active": data["active"],
        "reply_articles": [],
    }
    if data["reply_kind"] == RuleReplyKind.ARTICLES:
        fields["reply_articles"] = services.keyword_articles_from_content(
            article_ids=data["reply_articles"], site_url=_site_url(request, account)
        )
    return fields


@require_http_methods(["GET", "POST"])
@requires(Perm.WECHAT_KEYWORDS_MANAGE)
def keyword_create(request: HttpRequest) -> HttpResponse:
    account = _account(request, _accounts())
    if account is None:
        raise NotFound("account_not_found", _("尚未配置公众号。"))
    form = KeywordRuleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            rule = services.keyword_rule_create(
                channel=Channel.WECHAT,
                channel_account=account.slug,
                actor_staff_id=request.user.pk,
                **_rule_fields(request, account, form.cleaned_data),
            )
        except ApplicationError as exc:
            add_application_error(form, exc)
        else:
            messages.success(request, _("已新建关键词规则“%(pattern)s”。") % {"pattern": rule.pattern})
            return redirect(_keywords_url(account))
    return render_page(
        request, "conversations/console/keyword_form.html", {"form": form, "account": account, "rule": None}
    )


def _rule_of(rule_id: int):
    rule = selectors.keyword_rule_get(rule_id=rule_id)
    account = WeChatAccount.objects.filter(slug=rule.channel_account).first()
    if account is None:
        raise NotFound("rule_not_found", _("没有这条关键词规则。"))
    return rule, account


@require_http_methods(["GET", "POST"])
@requires(Perm.WECHAT_KEYWORDS_MANAGE)
def keyword_edit(request: HttpRequest, rule_id: int) -> HttpResponse:
    rule, account = _rule_of(rule_id)
    initial = {
        "match_kind": rule.match_kind,
        "pattern": rule.pattern,
        "priority": rule.priority,
        "reply_kind": rule.reply_kind,
        "reply_text": rule.reply_text,
        "reply_articles": [item["article_id"] for item in rule.reply_articles if "article_id" in item],
        "reply_media_id": rule.reply_media_id,
        "reply_intent": rule.reply_intent,
        "active": rule.active,
    }
    form = KeywordRuleForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.keyword_rule_update(
                rule=rule, actor_staff_id=request.user.pk, **_rule_fields(request, account, form.cleaned_data)
            )
        except ApplicationError as exc:
            add_application_error(form, exc)
        else:
            messages.success(request, _("修改已保存。"))
            return redirect(_keywords_url(account))
    return render_page(
        request, "conversations/console/keyword_form.html", {"form": form, "account": account, "rule": rule}
    )


@require_POST
@requires(Perm.WECHAT_KEYWORDS_MANAGE)
def keyword_toggle(request: HttpRequest, rule_id: int) -> HttpResponse:
    rule, account = _rule_of(rule_id)
    try:
        services.keyword_rule_update(rule=rule, active=not rule.active, actor_staff_id=request.user.pk)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        done = _("已启用“%(pattern)s”。") if rule.active else _("已停用“%(pattern)s”。")
        messages.success(request, done % {"pattern": rule.pattern})
    return redirect(_keywords_url(account))


@require_POST
@requires(Perm.WECHAT_KEYWORDS_MANAGE)
def keyword_delete(request: HttpRequest, rule_id: int) -> HttpResponse:
    rule, account = _rule_of(rule_id)
    pattern = rule.pattern
    services.keyword_rule_delete(rule=rule, actor_staff_id=request.user.pk)
    messages.success(request, _("已删除关键词规则“%(pattern)s”。") % {"pattern": pattern})
    return redirect(_keywords_url(account))


@require_GET
@requires(Perm.WECHAT_KEYWORDS_MANAGE)
def keyword_test(request: HttpRequest) -> HttpResponse:
    """The test box: which rule wins for a text and why (the engine's own matcher), and the
    whole reply the engine would give an unbound follower."""
    account = _account(request, _accounts())
    if account is None:
        raise NotFound("account_not_found", _("尚未配置公众号。"))
    form = KeywordTestForm(request.GET)
    outcome = preview = None
    if form.is_valid() and form.cleaned_data["text"].strip():
        text = form.cleaned_data["text"]
        outcome = selectors.keyword_test(channel=Channel.WECHAT, channel_account=account.slug, text=text)
        preview = _engine_preview(request, account, text)
    return render_page(
        request,
        "conversations/console/keyword_test.html",
        {
            "form": form,
            "account": account,
            "outcome": outcome,
            "preview": preview,
            "preview_intent": intent_label(str(preview.intent)) if preview else "",
        },
        partial="conversations/console/_partials/keyword_test_result.html",
    )


def _engine_preview(request: HttpRequest, account: WeChatAccount, text: str):
    from powerdesk.conversations.engine import resolve_reply
    from powerdesk.conversations.intents import WritesNeeded
    from powerdesk.conversations.messages import Reply

    message = InboundMessage(
        channel=Channel.WECHAT,
        channel_account=account.slug,
        sender=SenderIdentity("wechat_openid", account.app_id, "console-test-box"),
        kind="text",
        dedup_key="console-test-box",
        received_at=timezone.now(),
        text=text,
    )
    context = ChannelContext(site_url=_site_url(request, account), greeting=account.greeting)
    try:
        return resolve_reply(message, customer_user=None, context=context, writes_allowed=False)
    except WritesNeeded as needed:  # e.g. 退订: a test must not record anything
        return Reply.text_reply(
            _("（这条回复会写入数据，例如登记退订；测试框只预览，不执行。）"), intent=needed.intent
        )


@require_http_methods(["GET", "POST"])
@requires(Perm.WECHAT_KEYWORDS_MANAGE)
def auto_replies(request: HttpRequest) -> HttpResponse:
    """The account's subscribe greeting and default (fallback) reply."""
    account = _account(request, _accounts())
    if account is None:
        raise NotFound("account_not_found", _("尚未配置公众号。"))
    initial = {
        "greeting": account.greeting,
        "fallback_text": selectors.fallback_text_for(channel=Channel.WECHAT, channel_account=account.slug),
    }
    form = AutoReplyForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.auto_replies_update(
                account=account,
                greeting=form.cleaned_data["greeting"],
                fallback_text=form.cleaned_data["fallback_text"],
                actor_staff_id=request.user.pk,
            )
        except ApplicationError as exc:
            add_application_error(form, exc)
        else:
            messages.success(request, _("欢迎语与默认回复已保存。"))
            return redirect(f"{reverse('console:wechat_auto_replies')}?account={account.slug}")
    return render_page(request, "conversations/console/auto_replies.html", {"form": form, "account": account})


# --- the inbox ---------------------------------------------------------------------------------


@require_GET
@requires(Perm.WECHAT_INBOX_REPLY)
def inbox_list(request: HttpRequest) -> HttpResponse:
    accounts = _accounts()
    form = InboxFilterForm(request.GET, accounts=accounts)
    filters = form.cleaned_data if form.is_valid() else {}
    threads = selectors.inbox_threads(
        staff=request.user,
        channel=Channel.WECHAT,
        channel_account=filters.get("account", ""),
        view=filters.get("view") or selectors.InboxView.ALL,
        status=filters.get("status", ""),
    )
    page = Paginator(threads, PAGE_SIZE).get_page(request.GET.get("page"))
    profiles = selectors.follower_profiles(list(page.object_list))
    names = {account.slug: account.name or account.slug for account in accounts}
    rows = [
        {
            "thread": thread,
            "profile": profiles[thread.pk],
            "account_name": names.get(thread.channel_account, ""),
        }
        for thread in page.object_list
    ]
    return render_page(
        request,
        "conversations/console/inbox_list.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "counts": selectors.inbox_counts(staff=request.user),
            "current_view": filters.get("view") or selectors.InboxView.ALL,
        },
    )


def _thread_page(request: HttpRequest, thread, *, reply_form=None, status: int = 200) -> HttpResponse:
    account = WeChatAccount.objects.filter(slug=thread.channel_account).first()
    profile = selectors.follower_profiles([thread])[thread.pk]
    return render_page(
        request,
        "conversations/console/inbox_thread.html",
        {
            "thread": thread,
            "account": account,
            "profile": profile,
            "thread_messages": selectors.conversation_messages(conversation=thread),
            "window": selectors.reply_window(conversation=thread),
            "reply_form": reply_form or StaffReplyForm(),
            "assign_form": AssignForm(
                initial={"assignee": thread.assigned_to_id},
                assignees=selectors.inbox_assignees(conversation=thread),
            ),
            "status_form": StatusForm(initial={"status": thread.status}),
            "inbound": Direction.INBOUND,
        },
        status=status,
    )


@require_GET
@requires(Perm.WECHAT_INBOX_REPLY)
def inbox_thread(request: HttpRequest, conversation_id: int) -> HttpResponse:
    thread = selectors.conversation_get_for_staff(staff=request.user, conversation_id=conversation_id)
    inbox.conversation_mark_read(conversation=thread)
    return _thread_page(request, thread)


@require_POST
@requires(Perm.WECHAT_INBOX_REPLY)
def inbox_reply(request: HttpRequest, conversation_id: int) -> HttpResponse:
    thread = selectors.conversation_get_for_staff(staff=request.user, conversation_id=conversation_id)
    form = StaffReplyForm(request.POST)
    if not form.is_valid():
        return _thread_page(request, thread, reply_form=form)
    data = form.cleaned_data
    account = WeChatAccount.objects.filter(slug=thread.channel_account).first()
    try:
        reply = inbox.staff_reply_build(
            kind=data["kind"],
            text=data["text"],
            article_id=data["article"],
            media_id=data["media_id"],
            site_url=_site_url(request, account) if account else "",
        )
        sent = inbox.staff_reply_send(
            conversation=thread, staff=request.user, reply=reply, request_token=data["request_token"]
        )
    except ApplicationError as exc:
        add_application_error(form, exc)
        return _thread_page(request, thread, reply_form=form)
    if sent.delivery == "failed":
        messages.error(request, _("发送失败：%(error)s") % {"error": sent.delivery_error})
    else:
        messages.success(request, _("回复已通过客服消息发送。"))
    return redirect("console:wechat_inbox_thread", thread.pk)


@require_POST
@requires(Perm.WECHAT_INBOX_REPLY)
def inbox_assign(request: HttpRequest, conversation_id: int) -> HttpResponse:
    thread = selectors.conversation_get_for_staff(staff=request.user, conversation_id=conversation_id)
    raw = request.POST.get("assignee", "")
    if raw == "me":
        assignee = request.user
    elif raw:
        assignee = StaffUser.objects.filter(pk=int(raw) if raw.isdigit() else 0).first()
        if assignee is None:
            messages.error(request, _("没有这位员工。"))
            return redirect("console:wechat_inbox_thread", thread.pk)
    else:
        assignee = None
    try:
        inbox.conversation_assign(conversation=thread, assignee=assignee, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        if assignee is None:
            messages.success(request, _("已取消分配。"))
        else:
            messages.success(
                request, _("已分配给 %(name)s。") % {"name": assignee.get_full_name() or assignee.username}
            )
    return redirect("console:wechat_inbox_thread", thread.pk)


@require_POST
@requires(Perm.WECHAT_INBOX_REPLY)
def inbox_status(request: HttpRequest, conversation_id: int) -> HttpResponse:
    thread = selectors.conversation_get_for_staff(staff=request.user, conversation_id=conversation_id)
    try:
        inbox.conversation_status_set(
            conversation=thread, status=request.POST.get("status", ""), actor=request.user
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("状态已改为“%(status)s”。") % {"status": thread.get_status_display()})
    return redirect("console:wechat_inbox_thread", thread.pk)
