from django.db import migrations

from powerdesk.core.db import append_only


class Migration(migrations.Migration):
    dependencies = [("privacy", "0002_initial")]
    operations = [append_only("privacy_personaldataaccess")]
