import datetime

from django.db import migrations, models


def lights_of_month_end(apps, schema_editor):
    """Rows written before this column had their lights derived as of the month's last day."""
    MonthEndFigures = apps.get_model("portfolio", "MonthEndFigures")
    for month in MonthEndFigures.objects.values_list("month", flat=True).distinct():
        following = datetime.date(month.year + month.month // 12, month.month % 12 + 1, 1)
        MonthEndFigures.objects.filter(month=month).update(lights_as_of=following - datetime.timedelta(days=1))


class Migration(migrations.Migration):

    dependencies = [
        ("portfolio", "0013_month_end_figures"),
    ]

    operations = [
        migrations.AddField(
            model_name="monthendfigures",
            name="lights_as_of",
            field=models.DateField(null=True, verbose_name="灯号评估日期"),
        ),
        migrations.RunPython(lights_of_month_end, migrations.RunPython.noop),
    ]
