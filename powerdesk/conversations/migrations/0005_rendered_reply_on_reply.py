"""The answer body a channel got is now stored on the reply row (written with it, so the engine
needs no UPDATE of the inbound row); copy it there for messages stored before."""

from django.db import migrations
from django.db.models import OuterRef, Subquery


def forwards(apps, schema_editor):
    message = apps.get_model("conversations", "ConversationMessage")
    inbound_rendered = message.objects.filter(pk=OuterRef("reply_to")).values("rendered_reply")[:1]
    first_reply_ids = (
        message.objects.filter(direction="outbound", reply_to__isnull=False, rendered_reply="")
        .order_by("reply_to_id", "id")
        .values("reply_to_id", "id")
    )
    seen, firsts = set(), []
    for row in first_reply_ids.iterator(chunk_size=10_000):
        if row["reply_to_id"] not in seen:
            seen.add(row["reply_to_id"])
            firsts.append(row["id"])
    for start in range(0, len(firsts), 10_000):
        message.objects.filter(pk__in=firsts[start : start + 10_000]).update(
            rendered_reply=Subquery(inbound_rendered)
        )


class Migration(migrations.Migration):
    dependencies = [("conversations", "0004_channel_bank")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
