"""Roles and the permission matrix: what each role may see and do in the console and API.

This is the single place the console's navigation, its views and the staff API consult, so
"what may an analyst do" has one answer. Tests walk the matrix role by role.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    AGENT = "agent", _("客服坐席")
    BACK_OFFICE = "back_office", _("后台业务")
    DEPT_MANAGER = "dept_manager", _("部门经理")
    ANALYST = "analyst", _("数据分析师")
    ADMIN = "admin", _("系统管理员")


class Perm(models.TextChoices):
    CUSTOMER_SEARCH = "customer.search", _("查找客户")
    CUSTOMER_VIEW = "customer.view", _("查看客户全景")
    CUSTOMER_VIEW_PII = "customer.view_pii", _("查看完整个人信息")
    CUSTOMER_EDIT = "customer.edit", _("修改客户资料、办理过户")
    BINDING_MANAGE = "binding.manage", _("解除绑定")
    AUDIT_VIEW = "audit.view", _("查看个人信息访问审计")
    EVENTS_VIEW = "events.view", _("查看事件日志")
    SMS_OUTBOX_VIEW = "sms_outbox.view", _("查看短信发件箱")
    ANALYTICS_VIEW = "analytics.view", _("查看统计分析")
    STAFF_MANAGE = "staff.manage", _("管理员工与权限")
    ORG_MANAGE = "org.manage", _("管理组织机构")
    PARTNER_MANAGE = "partner.manage", _("管理合作方接口凭证")
    PAYMENTS_VIEW = "payments.view", _("查询缴费与挂账")
    PAYMENT_RAW_VIEW = "payments.view_raw", _("查看渠道通知原始报文")
    PAYMENT_REFUND = "payments.refund", _("办理缴费退款")
    SUSPENSE_RESOLVE = "payments.resolve_suspense", _("处理挂账款项")
    PAYMENT_RECONCILE = "payments.reconcile", _("渠道对账")
    CONTENT_MANAGE = "content.manage", _("管理图文与使用指南")
    CONSENT_VIEW = "consent.view", _("查看营销订阅与退订")
    WECHAT_BROADCAST = "wechat.broadcast", _("公众号群发消息")
    WECHAT_BROADCAST_ALL = "wechat.broadcast_all", _("向全部关注者或微信标签群发")
    WECHAT_KEYWORDS_MANAGE = "wechat.keywords_manage", _("管理公众号关键词回复")
    WECHAT_MENU_MANAGE = "wechat.menu_manage", _("编辑与发布公众号菜单")
    WECHAT_INBOX_REPLY = "wechat.inbox_reply", _("处理并回复公众号留言")
    WECHAT_STATS_VIEW = "wechat.stats_view", _("查看公众号统计分析")


# Payments: agents and managers answer "I paid but my balance did not change", so they may look up
# payments and suspense items (PAYMENTS_VIEW). Moving money back (PAYMENT_REFUND), closing a
# suspense item (SUSPENSE_RESOLVE), reading a gateway's raw notification (PAYMENT_RAW_VIEW) and
# reconciling statements (PAYMENT_RECONCILE) are back-office work with a separation of duties:
# the people who talk to customers do not also move the money, and managers oversee, not operate.
# Content: what customers read as the utility's word (图文, usage guides) is written by the back
# office and answered for by the department manager, who signs off what goes out; agents and
# analysts read it on H5 like customers do.
# WeChat Official Account operations: agents answer followers' messages (留言) because answering
# customers is their job; what every follower sees unasked — keyword auto-replies and the custom
# menu — is published by the back office like the articles, and the department manager, who
# answers for both, holds all three.
# Mass messages (群发) are composed and sent by the back office and the department manager, to
# the bound customers of their own unit and below. Sending to every follower, a WeChat tag or the
# unbound followers reaches people no supply unit owns, so it needs WECHAT_BROADCAST_ALL (the
# manager) and a post at the top of the company tree (docs/broadcasts.md).
# Consent (营销订阅与退订, masked addresses only) is read by the back office, which runs campaigns,
# and the department manager, who answers for them; nobody edits it by hand in the console.
ROLE_PERMISSIONS: dict[Role, frozenset[Perm]] = {
    Role.AGENT: frozenset(
        {Perm.CUSTOMER_SEARCH, Perm.CUSTOMER_VIEW, Perm.PAYMENTS_VIEW, Perm.WECHAT_INBOX_REPLY}
    ),
    Role.BACK_OFFICE: frozenset(
        {
            Perm.CUSTOMER_SEARCH,
            Perm.CUSTOMER_VIEW,
            Perm.CUSTOMER_VIEW_PII,
            Perm.CUSTOMER_EDIT,
            Perm.BINDING_MANAGE,
            Perm.SMS_OUTBOX_VIEW,
            Perm.CONSENT_VIEW,
            Perm.PAYMENTS_VIEW,
            Perm.PAYMENT_RAW_VIEW,
            Perm.PAYMENT_REFUND,
            Perm.SUSPENSE_RESOLVE,
            Perm.PAYMENT_RECONCILE,
            Perm.CONTENT_MANAGE,
            Perm.WECHAT_KEYWORDS_MANAGE,
            Perm.WECHAT_MENU_MANAGE,
            Perm.WECHAT_BROADCAST,
        }
    ),
    Role.DEPT_MANAGER: frozenset(
        {
            Perm.CUSTOMER_SEARCH,
            Perm.CUSTOMER_VIEW,
            Perm.CUSTOMER_VIEW_PII,
            Perm.AUDIT_VIEW,
            Perm.EVENTS_VIEW,
            Perm.CONSENT_VIEW,
            Perm.ANALYTICS_VIEW,
            Perm.PAYMENTS_VIEW,
            Perm.CONTENT_MANAGE,
            Perm.WECHAT_KEYWORDS_MANAGE,
            Perm.WECHAT_MENU_MANAGE,
            Perm.WECHAT_INBOX_REPLY,
            Perm.WECHAT_BROADCAST,
            Perm.WECHAT_BROADCAST_ALL,
            Perm.WECHAT_STATS_VIEW,
        }
    ),
    # Analysts work on aggregates and the event log, never on individual customers.
    # WECHAT_STATS_VIEW (公众号统计分析) shows aggregates only: analysts and managers, not agents.
    Role.ANALYST: frozenset({Perm.EVENTS_VIEW, Perm.ANALYTICS_VIEW, Perm.WECHAT_STATS_VIEW}),
    Role.ADMIN: frozenset(Perm),
}


def role_has(role: str, perm: Perm | str) -> bool:
    try:
        return Perm(perm) in ROLE_PERMISSIONS[Role(role)]
    except ValueError:
        return False
