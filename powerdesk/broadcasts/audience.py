"""Who a broadcast reaches: the openids of an audience, counted for the compose form and written
into the recipient table in bulk when the broadcast starts.

* **segment** — from our own tables: the WeChat identities (``wechat_openid``, the account's
  AppID) of active customer users who hold an active binding to an account of the chosen tariff
  classes under the chosen supply unit (always within the broadcast's own unit); or, for
  ``binding=unbound``, the identities whose user has no active binding at all. Written with one
  ``INSERT … SELECT`` — the openids never pass through Python.
* **all** / **tag** — from WeChat: ``user/get`` / ``user/tag/get``, page by page (10,000 a page),
  de-duplicated in memory (about 100 MB per million followers) and written with ``TextRows``
  (``COPY`` on PostgreSQL, one ``executemany`` per 10,000 on SQLite).

Either way every openid is written once, numbered 1…N in a stable order (``seq``) and given its
chunk: ``chunk_count = ceil(N / size)`` chunks of balanced size, ``chunk_no = (seq-1)·count // N``,
so that no chunk has fewer than 2 openids (WeChat refuses a list of one) nor more than ``size``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from powerdesk.broadcasts.choices import AudienceKind, BindingFilter, RecipientStatus
from powerdesk.broadcasts.models import Broadcast, BroadcastRecipient
from powerdesk.core.exceptions import ApplicationError
from powerdesk.customers.choices import IdentityProvider, TariffClass
from powerdesk.customers.models import Binding, Identity
from powerdesk.organisation.models import SupplyUnit
from powerdesk.staff.roles import Perm

_INSERT_BATCH = 10_000


@dataclass(frozen=True)
class AudienceChoice:
    """What the compose form asked for, before it is checked against the staff member's scope."""

    kind: str
    tag_id: int | None = None
    binding: str = BindingFilter.BOUND
    tariff_classes: tuple[str, ...] = ()
    supply_unit: SupplyUnit | None = None  # None: the staff member's own unit


@dataclass(frozen=True)
class CleanAudience:
    kind: str
    tag_id: int | None
    segment: dict


def may_target_everyone(staff) -> bool:
    """All followers, a WeChat tag and the unbound followers belong to no supply unit: only a
    holder of WECHAT_BROADCAST_ALL posted at the top of the company tree (whose scope is the whole
    company) may reach them. Anyone else reaches the bound customers of their own unit."""
    unit = getattr(staff, "supply_unit", None)
    return bool(unit is not None and unit.parent_id is None and staff.can(Perm.WECHAT_BROADCAST_ALL))


def _everyone_refused(field: str) -> ApplicationError:
    return ApplicationError(
        "broadcast_audience_forbidden",
        _(
            "只有最上级单位的部门经理或系统管理员可以向全部关注者、微信标签或未绑定户号的关注者群发；"
            "请改为按客户属性筛选本单位已绑定户号的客户。"
        ),
        field=field,
    )


def audience_clean(*, staff, audience: AudienceChoice) -> CleanAudience:
    """Check an audience against ``staff``'s rights and scope (one rule for form, count and API)."""
    own_unit = getattr(staff, "supply_unit", None)
    if own_unit is None:
        raise ApplicationError(
            "broadcast_staff_without_unit", _("您的账号未归属任何供电单位，不能群发。"), field="audience_kind"
        )
    if audience.kind not in AudienceKind.values:
        raise ApplicationError("broadcast_audience_invalid", _("请选择发送对象。"), field="audience_kind")
    if audience.kind == AudienceKind.ALL:
        if not may_target_everyone(staff):
            raise _everyone_refused("audience_kind")
        return CleanAudience(AudienceKind.ALL, None, {})
    if audience.kind == AudienceKind.TAG:
        if not may_target_everyone(staff):
            raise _everyone_refused("audience_kind")
        if not isinstance(audience.tag_id, int) or audience.tag_id < 1:
            raise ApplicationError(
                "broadcast_tag_required", _("请填写微信标签 ID（正整数）。"), field="tag_id"
            )
        return CleanAudience(AudienceKind.TAG, audience.tag_id, {})
    if audience.binding not in BindingFilter.values:
        raise ApplicationError("broadcast_binding_invalid", _("请选择是否已绑定户号。"), field="binding")
    unknown = [value for value in audience.tariff_classes if value not in TariffClass.values]
    if unknown:
        raise ApplicationError(
            "broadcast_tariff_invalid",
            _("用电类别“%(value)s”不存在。") % {"value": unknown[0]},
            field="tariff_classes",
        )
    unit = audience.supply_unit or own_unit
    if not unit.is_within(own_unit):
        raise ApplicationError(
            "broadcast_unit_out_of_scope",
            _("“%(unit)s”不在您的管辖范围内，只能选择本单位及下级单位。") % {"unit": unit.name},
            field="supply_unit",
        )
    if audience.binding == BindingFilter.UNBOUND:
        # Unbound followers have no account, hence no unit: the same rule as "all followers".
        if not may_target_everyone(staff):
            raise _everyone_refused("binding")
        return CleanAudience(AudienceKind.SEGMENT, None, {"binding": BindingFilter.UNBOUND.value})
    segment = Segment(
        binding=BindingFilter.BOUND,
        tariff_classes=tuple(sorted(set(audience.tariff_classes))),
        unit_path=unit.path,
    )
    return CleanAudience(AudienceKind.SEGMENT, None, segment.as_json(unit.pk))


@dataclass(frozen=True)
class Segment:
    """A segment audience, parsed and checked (services.segment_clean builds it)."""

    binding: str
    tariff_classes: tuple[str, ...]
    unit_path: str  # the chosen supply unit's path: "this unit and everything below it"

    def as_json(self, unit_id: int) -> dict:
        return {
            "binding": self.binding,
            "tariff_classes": list(self.tariff_classes),
            "supply_unit_id": unit_id,
        }


def segment_of(broadcast: Broadcast) -> Segment:
    data = broadcast.segment or {}
    unit = SupplyUnit.objects.get(pk=data["supply_unit_id"]) if data.get("supply_unit_id") else None
    # A segment never leaves the broadcast's own unit, whatever the stored unit says.
    path = (
        unit.path
        if unit is not None and unit.is_within(broadcast.supply_unit)
        else broadcast.supply_unit.path
    )
    return Segment(
        binding=data.get("binding", BindingFilter.BOUND),
        tariff_classes=tuple(data.get("tariff_classes") or ()),
        unit_path=path,
    )


def segment_openids(*, app_id: str, segment: Segment) -> QuerySet:
    """Distinct openids of the segment, as a ``values_list`` queryset (one column, ``subject``)."""
    identities = Identity.objects.filter(
        provider=IdentityProvider.WECHAT_OPENID, app_id=app_id, customer_user__is_active=True
    )
    now = timezone.now()
    active = Q(ended_at__isnull=True) & (Q(valid_until__isnull=True) | Q(valid_until__gt=now))
    if segment.binding == BindingFilter.UNBOUND:
        bindings = Binding.objects.filter(active, customer_user=OuterRef("customer_user"))
        identities = identities.filter(~Exists(bindings))
    else:
        wanted = Binding.objects.filter(
            active,
            customer_user=OuterRef("customer_user"),
            account__supply_unit__path__startswith=segment.unit_path,
        )
        if segment.tariff_classes:
            wanted = wanted.filter(account__tariff_class__in=segment.tariff_classes)
        identities = identities.filter(Exists(wanted))
    return identities.order_by().values_list("subject", flat=True).distinct()


def segment_count(*, app_id: str, segment: Segment) -> int:
    return segment_openids(app_id=app_id, segment=segment).count()


def chunk_plan(count: int, size: int) -> int:
    """How many chunks ``count`` openids take at most ``size`` a chunk (balanced)."""
    return -(-count // size) if count else 0


def materialise_segment(broadcast: Broadcast, *, size: int) -> int:
    """Write the segment's recipients with one INSERT … SELECT; returns how many.

    The count, the numbering and the chunk numbers come from window functions of the same
    statement, so they agree with the rows written even while identities change meanwhile.
    """
    openids = segment_openids(app_id=broadcast.wechat_account.app_id, segment=segment_of(broadcast))
    select_sql, select_params = openids.query.sql_with_params()
    table = BroadcastRecipient._meta.db_table
    quote = connection.ops.quote_name
    columns = ", ".join(quote(c) for c in ("broadcast_id", "seq", "chunk_no", "openid", "status", "reason"))
    # chunk_count = ceil(n / size); chunk_no = (seq - 1) * chunk_count / n, all integer arithmetic.
    sql = (
        f"INSERT INTO {quote(table)} ({columns}) "  # noqa: S608  (identifiers from our own models)
        "SELECT %s, t.rn, ((t.rn - 1) * ((t.n + %s - 1) / %s)) / t.n, t.openid, %s, '' "
        "FROM (SELECT s.subject AS openid, ROW_NUMBER() OVER (ORDER BY s.subject) AS rn, "
        f"COUNT(*) OVER () AS n FROM ({select_sql}) s) t"
    )
    params = [broadcast.pk, size, size, RecipientStatus.PENDING, *select_params]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def materialise_openids(broadcast: Broadcast, openids: Iterable[str], *, size: int) -> int:
    """Write recipients from a list WeChat gave us (all followers, a tag); returns how many."""
    from powerdesk.demo.bulk import TextRows

    unique = sorted(set(openids))
    count = len(unique)
    chunks = chunk_plan(count, size)
    rows = TextRows(
        BroadcastRecipient,
        ["broadcast_id", "seq", "chunk_no", "openid", "status", "reason"],
        using=connection.alias,
    )
    pk, pending = str(broadcast.pk), RecipientStatus.PENDING.value
    with rows.stream() as write:
        for start in range(0, count, _INSERT_BATCH):
            write(
                [
                    (pk, str(seq + 1), str(seq * chunks // count), rows.escape(openid), pending, "")
                    for seq, openid in enumerate(unique[start : start + _INSERT_BATCH], start=start)
                ]
            )
    return count


def audience_label(broadcast: Broadcast, *, unit_names: dict[int, str] | None = None) -> str:
    """A one-line description for lists and the detail page (``unit_names``: id → name, so that
    a list page looks the units up once)."""
    if broadcast.audience_kind == AudienceKind.ALL:
        return str(AudienceKind.ALL.label)
    if broadcast.audience_kind == AudienceKind.TAG:
        return _("微信标签 %(tag)s") % {"tag": broadcast.tag_id}
    data = broadcast.segment or {}
    if data.get("binding") == BindingFilter.UNBOUND:
        return str(BindingFilter.UNBOUND.label)
    unit_id = data.get("supply_unit_id")
    if unit_names is None:
        unit_names = dict(SupplyUnit.objects.filter(pk=unit_id).values_list("pk", "name"))
    classes = [str(TariffClass(value).label) for value in data.get("tariff_classes") or ()]
    return _("%(unit)s · %(classes)s · 已绑定户号") % {
        "unit": unit_names.get(unit_id) or broadcast.supply_unit.name,
        "classes": "、".join(classes) or _("全部用电类别"),
    }
