from django.db import migrations


class Migration(migrations.Migration):
    """The stored dashboards, their per-plan parts and the old figures go: figures are derived
    data, rebuilt by the next evaluate_flags (docs/architecture.md)."""

    dependencies = [("portfolio", "0006_flag_changed_on")]

    operations = [
        migrations.DeleteModel(name="DashboardPart"),
        migrations.DeleteModel(name="FiguresState"),
        migrations.DeleteModel(name="Snapshot"),
        migrations.DeleteModel(name="ItemFigures"),
    ]
