"""Console pages for 群发消息: list, compose (with an htmx audience count), detail with progress,
preview, send now, schedule, cancel, and resume after WeChat's quota.

Every page needs WECHAT_BROADCAST (staff/roles.py); every broadcast is read through
``selectors.broadcast_get``, so one outside the staff member's unit answers 404 like a missing one.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from powerdesk.broadcasts import selectors, services
from powerdesk.broadcasts.audience import audience_label, may_target_everyone
from powerdesk.broadcasts.choices import NOT_STARTED, BroadcastStatus, MessageKind
from powerdesk.broadcasts.forms import (
    AudienceFields,
    BroadcastFilterForm,
    BroadcastForm,
    PreviewForm,
    RecipientLookupForm,
    ScheduleForm,
)
from powerdesk.broadcasts.wechat import report_status_text
from powerdesk.console.forms import add_application_error
from powerdesk.console.htmx import render_page
from powerdesk.console.permissions import requires
from powerdesk.core.exceptions import ApplicationError
from powerdesk.organisation.models import SupplyUnit
from powerdesk.staff.roles import Perm

PAGE_SIZE = 30
# While a broadcast is moving, its detail page refreshes its progress every few seconds.
LIVE_STATUSES = (BroadcastStatus.QUEUED, BroadcastStatus.SENDING, BroadcastStatus.SUBMITTED)
CONTENT_FIELDS = ("wechat_account", "title", "message_kind", "text_content", "articles", "thumb_media_id")
AUDIENCE_FIELDS = ("audience_kind", "binding", "tariff_classes", "supply_unit", "tag_id")


@require_GET
@requires(Perm.WECHAT_BROADCAST)
def broadcast_list(request: HttpRequest) -> HttpResponse:
    form = BroadcastFilterForm(request.GET)
    status = form.cleaned_data.get("status", "") if form.is_valid() else ""
    page = Paginator(selectors.broadcast_list(staff=request.user, status=status), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    unit_ids = {b.segment.get("supply_unit_id") for b in page if b.segment.get("supply_unit_id")}
    unit_names = dict(SupplyUnit.objects.filter(pk__in=unit_ids).values_list("pk", "name"))
    for broadcast in page:
        broadcast.audience_text = audience_label(broadcast, unit_names=unit_names)
    return render_page(request, "broadcasts/console/list.html", {"form": form, "page": page})


@require_http_methods(["GET", "POST"])
@requires(Perm.WECHAT_BROADCAST)
def broadcast_create(request: HttpRequest) -> HttpResponse:
    form = BroadcastForm(request.POST or None, staff=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            broadcast = services.broadcast_create(
                staff=request.user,
                wechat_account=data["wechat_account"],
                title=data["title"],
                message_kind=data["message_kind"],
                text_content=data["text_content"],
                article_ids=[article.pk for article in data["articles"]],
                thumb_media_id=data["thumb_media_id"],
                audience=form.audience(),
            )
        except ApplicationError as exc:
            add_application_error(form, exc)
        else:
            messages.success(request, _("已保存为草稿。请先发送预览，确认无误后再立即发送或定时发送。"))
            return redirect("console:broadcast_detail", broadcast.pk)
    return render_page(
        request,
        "broadcasts/console/form.html",
        {
            "form": form,
            "content_fields": [form[name] for name in CONTENT_FIELDS],
            "audience_fields": [form[name] for name in AUDIENCE_FIELDS],
            "may_target_everyone": may_target_everyone(request.user),
        },
    )


@require_http_methods(["GET", "POST"])
@requires(Perm.WECHAT_BROADCAST)
def broadcast_audience(request: HttpRequest) -> HttpResponse:
    """The compose form's audience fields → how many it reaches now (an htmx fragment)."""
    form = AudienceFields(request.POST if request.method == "POST" else request.GET, staff=request.user)
    context: dict = {"estimate": None, "error": ""}
    if not form.is_valid():
        context["error"] = "；".join(str(e) for errors in form.errors.values() for e in errors)
    elif form.cleaned_data["wechat_account"] is None:
        context["error"] = _("请选择公众号。")
    else:
        try:
            context["estimate"] = selectors.audience_estimate(
                staff=request.user,
                wechat_account=form.cleaned_data["wechat_account"],
                audience=form.audience(),
            )
        except ApplicationError as exc:
            context["error"] = exc.message
    return render_page(
        request,
        "broadcasts/console/_partials/audience_estimate.html",
        context,
        partial="broadcasts/console/_partials/audience_estimate.html",
    )


def _detail_context(request: HttpRequest, broadcast, **forms) -> dict:
    progress = selectors.broadcast_progress(broadcast=broadcast)
    chunks = list(selectors.broadcast_chunks(broadcast=broadcast))
    for chunk in chunks:
        chunk.report_text = report_status_text(chunk.report_status) if chunk.report_status else ""
    lookup_form = RecipientLookupForm(request.GET)
    recipient, looked_up = None, False
    if lookup_form.is_valid() and lookup_form.cleaned_data["openid"].strip():
        looked_up = True
        recipient = selectors.recipient_lookup(broadcast=broadcast, openid=lookup_form.cleaned_data["openid"])
    initial_schedule = {"scheduled_at": broadcast.scheduled_at} if broadcast.scheduled_at else None
    return {
        "broadcast": broadcast,
        "audience_text": audience_label(broadcast),
        "progress": progress,
        "chunks": chunks,
        "failed_chunks": [c for c in chunks if c.status == "failed"],
        "live": broadcast.status in LIVE_STATUSES,
        "not_started": broadcast.status in NOT_STARTED,
        "is_articles": broadcast.message_kind == MessageKind.ARTICLES,
        "quota": selectors.broadcast_quota(broadcast=broadcast) if broadcast.status in NOT_STARTED else None,
        "preview_form": forms.get("preview_form") or PreviewForm(),
        "schedule_form": forms.get("schedule_form") or ScheduleForm(initial=initial_schedule),
        "action_error": forms.get("action_error", ""),
        "lookup_form": lookup_form,
        "recipient": recipient,
        "looked_up": looked_up,
    }


@require_GET
@requires(Perm.WECHAT_BROADCAST)
def broadcast_detail(request: HttpRequest, broadcast_id: int) -> HttpResponse:
    broadcast = selectors.broadcast_get(staff=request.user, broadcast_id=broadcast_id)
    return render_page(
        request,
        "broadcasts/console/detail.html",
        _detail_context(request, broadcast),
        partial="broadcasts/console/_partials/progress.html",
    )


def _detail_with_error(request: HttpRequest, broadcast, status: int = 400, **forms) -> HttpResponse:
    return render_page(
        request, "broadcasts/console/detail.html", _detail_context(request, broadcast, **forms), status=status
    )


@require_POST
@requires(Perm.WECHAT_BROADCAST)
def broadcast_preview(request: HttpRequest, broadcast_id: int) -> HttpResponse:
    broadcast = selectors.broadcast_get(staff=request.user, broadcast_id=broadcast_id)
    form = PreviewForm(request.POST)
    form.is_valid()
    try:
        services.broadcast_preview(
            broadcast=broadcast, openid=form.cleaned_data.get("openid", ""), actor_staff_id=request.user.pk
        )
    except ApplicationError as exc:
        add_application_error(form, exc)
        return _detail_with_error(request, broadcast, status=exc.status, preview_form=form)
    messages.success(request, _("预览已发送，请在微信中查看。"))
    return redirect("console:broadcast_detail", broadcast.pk)


@require_POST
@requires(Perm.WECHAT_BROADCAST)
def broadcast_send(request: HttpRequest, broadcast_id: int) -> HttpResponse:
    broadcast = selectors.broadcast_get(staff=request.user, broadcast_id=broadcast_id)
    try:
        services.broadcast_send_now(broadcast=broadcast, actor_staff_id=request.user.pk)
    except ApplicationError as exc:
        return _detail_with_error(request, broadcast, status=exc.status, action_error=exc.message)
    messages.success(request, _("已加入发送队列，页面会显示发送进度。"))
    return redirect("console:broadcast_detail", broadcast.pk)


@require_POST
@requires(Perm.WECHAT_BROADCAST)
def broadcast_schedule(request: HttpRequest, broadcast_id: int) -> HttpResponse:
    broadcast = selectors.broadcast_get(staff=request.user, broadcast_id=broadcast_id)
    form = ScheduleForm(request.POST)
    if not form.is_valid():
        return _detail_with_error(request, broadcast, schedule_form=form)
    try:
        services.broadcast_schedule(
            broadcast=broadcast,
            scheduled_at=form.cleaned_data["scheduled_at"],
            actor_staff_id=request.user.pk,
        )
    except ApplicationError as exc:
        add_application_error(form, exc)
        return _detail_with_error(request, broadcast, status=exc.status, schedule_form=form)
    messages.success(request, _("已设置定时发送。开始前仍可取消。"))
    return redirect("console:broadcast_detail", broadcast.pk)


@require_POST
@requires(Perm.WECHAT_BROADCAST)
def broadcast_cancel(request: HttpRequest, broadcast_id: int) -> HttpResponse:
    broadcast = selectors.broadcast_get(staff=request.user, broadcast_id=broadcast_id)
    try:
        services.broadcast_cancel(broadcast=broadcast, actor_staff_id=request.user.pk)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("群发已取消。"))
    return redirect("console:broadcast_detail", broadcast.pk)


@require_POST
@requires(Perm.WECHAT_BROADCAST)
def broadcast_resume(request: HttpRequest, broadcast_id: int) -> HttpResponse:
    broadcast = selectors.broadcast_get(staff=request.user, broadcast_id=broadcast_id)
    try:
        services.broadcast_resume(broadcast=broadcast, actor_staff_id=request.user.pk)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已继续发送剩余批次。"))
    return redirect("console:broadcast_detail", broadcast.pk)
