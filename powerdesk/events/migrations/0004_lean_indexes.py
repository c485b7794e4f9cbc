"""Fewer index entries per event (the WeChat callback writes two events per message).

``kind``, ``customer_user_id`` and ``account_id`` lose their ``db_index`` indexes (on PostgreSQL
``kind`` also had a second, LIKE-pattern one nothing used) for a plain index on ``kind`` and
partial ones on the two ids where they are set. The old indexes are dropped by name rather than
by ``AlterField``: on SQLite that would rebuild the table and lose its append-only triggers.
"""

from django.db import migrations, models

_OLD_INDEXES = [
    "events_domainevent_kind_36a9ba2c_like",  # PostgreSQL only (IF EXISTS covers SQLite)
    "events_domainevent_kind_36a9ba2c",
    "events_domainevent_customer_user_id_d9559f1a",
    "events_domainevent_account_id_a8439c27",
]


class Migration(migrations.Migration):
    dependencies = [("events", "0003_channel_bank")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunSQL(f'DROP INDEX IF EXISTS "{name}"') for name in _OLD_INDEXES],
            state_operations=[
                migrations.AlterField(
                    model_name="domainevent",
                    name="account_id",
                    field=models.BigIntegerField(blank=True, null=True, verbose_name="用电户"),
                ),
                migrations.AlterField(
                    model_name="domainevent",
                    name="customer_user_id",
                    field=models.BigIntegerField(blank=True, null=True, verbose_name="客户用户"),
                ),
                migrations.AlterField(
                    model_name="domainevent",
                    name="kind",
                    field=models.CharField(max_length=64, verbose_name="事件类型"),
                ),
            ],
        ),
        migrations.AddIndex(
            model_name="domainevent",
            index=models.Index(fields=["kind"], name="event_kind"),
        ),
        migrations.AddIndex(
            model_name="domainevent",
            index=models.Index(
                condition=models.Q(("customer_user_id__isnull", False)),
                fields=["customer_user_id"],
                name="event_customer",
            ),
        ),
        migrations.AddIndex(
            model_name="domainevent",
            index=models.Index(
                condition=models.Q(("account_id__isnull", False)), fields=["account_id"], name="event_account"
            ),
        ),
    ]
