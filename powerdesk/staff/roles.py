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


# Payments: agents and managers answer "I paid but my balance did not change", so they may look up
# payments and suspense items (PAYMENTS_VIEW). Moving money back (PAYMENT_REFUND), closing a
# suspense item (SUSPENSE_RESOLVE), reading a gateway's raw notification (PAYMENT_RAW_VIEW) and
# reconciling statements (PAYMENT_RECONCILE) are back-office work with a separation of duties:
# the people who talk to customers do not also move the money, and managers oversee, not operate.
# Content: what customers read as the utility's word (图文, usage guides) is written by the back
# office and answered for by the department manager, who signs off what goes out; agents and
# analysts read it on H5 like customers do.
ROLE_PERMISSIONS: dict[Role, frozenset[Perm]] = {
    Role.AGENT: frozenset({Perm.CUSTOMER_SEARCH, Perm.CUSTOMER_VIEW, Perm.PAYMENTS_VIEW}),
    Role.BACK_OFFICE: frozenset(
        {
            Perm.CUSTOMER_SEARCH,
            Perm.CUSTOMER_VIEW,
            Perm.CUSTOMER_VIEW_PII,
            Perm.CUSTOMER_EDIT,
            Perm.BINDING_MANAGE,
            Perm.SMS_OUTBOX_VIEW,
            Perm.PAYMENTS_VIEW,
            Perm.PAYMENT_RAW_VIEW,
            Perm.PAYMENT_REFUND,
            Perm.SUSPENSE_RESOLVE,
            Perm.PAYMENT_RECONCILE,
            Perm.CONTENT_MANAGE,
        }
    ),
    Role.DEPT_MANAGER: frozenset(
        {
            Perm.CUSTOMER_SEARCH,
            Perm.CUSTOMER_VIEW,
            Perm.CUSTOMER_VIEW_PII,
            Perm.AUDIT_VIEW,
            Perm.EVENTS_VIEW,
            Perm.ANALYTICS_VIEW,
            Perm.PAYMENTS_VIEW,
            Perm.CONTENT_MANAGE,
        }
    ),
    # Analysts work on aggregates and the event log, never on individual customers.
    Role.ANALYST: frozenset({Perm.EVENTS_VIEW, Perm.ANALYTICS_VIEW}),
    Role.ADMIN: frozenset(Perm),
}


def role_has(role: str, perm: Perm | str) -> bool:
    try:
        return Perm(perm) in ROLE_PERMISSIONS[Role(role)]
    except ValueError:
        return False
