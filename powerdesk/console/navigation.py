"""The console's navigation, in one place: each item names the permission that shows it.

The base template lists only the items the signed-in user ``can()``, and each item's view is
decorated with ``requires(item.perm)`` — the tests check both against ROLE_PERMISSIONS, so a
link never appears for a page that would answer 403, and no page hides behind a missing link.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from powerdesk.staff.roles import Perm


@dataclass(frozen=True)
class NavItem:
    label: str | Promise
    url_name: str
    perm: Perm
    section: str | Promise


NAV_ITEMS: tuple[NavItem, ...] = (
    NavItem(_("客户查询"), "console:customer_search", Perm.CUSTOMER_SEARCH, _("客户服务")),
    NavItem(_("缴费查询"), "console:payment_search", Perm.PAYMENTS_VIEW, _("缴费与对账")),
    NavItem(_("挂账队列"), "console:suspense_queue", Perm.PAYMENTS_VIEW, _("缴费与对账")),
    NavItem(_("对账结果"), "console:reconciliation", Perm.PAYMENT_RECONCILE, _("缴费与对账")),
    NavItem(_("图文与指南"), "console:content_article_list", Perm.CONTENT_MANAGE, _("内容运营")),
    NavItem(_("群发消息"), "console:broadcast_list", Perm.WECHAT_BROADCAST, _("公众号运营")),
    NavItem(_("粉丝留言"), "console:wechat_inbox", Perm.WECHAT_INBOX_REPLY, _("公众号运营")),
    NavItem(_("关键词回复"), "console:wechat_keywords", Perm.WECHAT_KEYWORDS_MANAGE, _("公众号运营")),
    NavItem(_("自定义菜单"), "console:wechat_menu", Perm.WECHAT_MENU_MANAGE, _("公众号运营")),
    NavItem(_("统计分析"), "console:channel_stats", Perm.WECHAT_STATS_VIEW, _("公众号运营")),
    NavItem(_("订阅与退订"), "console:consent_list", Perm.CONSENT_VIEW, _("营销管理")),
    NavItem(_("个人信息访问审计"), "console:audit_log", Perm.AUDIT_VIEW, _("监督审计")),
    NavItem(_("事件日志"), "console:event_log", Perm.EVENTS_VIEW, _("监督审计")),
    NavItem(_("短信发件箱"), "console:sms_outbox", Perm.SMS_OUTBOX_VIEW, _("监督审计")),
    NavItem(_("员工管理"), "console:staff_list", Perm.STAFF_MANAGE, _("系统管理")),
    NavItem(_("组织机构"), "console:organisation", Perm.ORG_MANAGE, _("系统管理")),
)


def visible_items(user) -> list[NavItem]:
    """The items ``user`` may open, in menu order."""
    if not getattr(user, "is_authenticated", False):
        return []
    return [item for item in NAV_ITEMS if user.can(item.perm)]


def nav_sections(request: HttpRequest) -> list[dict]:
    """Visible items grouped by section, each with its URL and whether it is the current page."""
    current = request.resolver_match.view_name if request.resolver_match else ""
    sections: list[dict] = []
    for item in visible_items(request.user):
        url = reverse(item.url_name)
        entry = {
            "label": item.label,
            "url": url,
            "active": current == item.url_name or request.path.startswith(url),
        }
        if not sections or sections[-1]["title"] != item.section:
            sections.append({"title": item.section, "items": []})
        sections[-1]["items"].append(entry)
    return sections


def granted(user) -> dict[str, bool]:
    """``{"CUSTOMER_VIEW_PII": True, …}`` for templates, which cannot call ``user.can(perm)``."""
    return {perm.name: bool(getattr(user, "is_authenticated", False) and user.can(perm)) for perm in Perm}
