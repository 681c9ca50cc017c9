from django.db import migrations


class Migration(migrations.Migration):
    """A flag keeps the date its severity or facts last changed, not the last night it was seen:
    a night without changes writes no flag rows."""

    dependencies = [("portfolio", "0005_dashboard_part")]

    operations = [migrations.RenameField("flag", "last_seen_on", "changed_on")]
