"""The data versions of slices of plans (projects.versions.sliced), and on PostgreSQL the
statistics of an entry's slice, mod(plan_id, 32) (projects.versions.SLICES): without them the
planner takes every entry for a group of its own when the dashboard's sums are grouped by slice,
and sorts 200,000 rows instead of hashing a few thousand groups."""
from django.db import migrations, models


def create_statistics(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("CREATE STATISTICS IF NOT EXISTS projects_item_slice ON (mod(plan_id, 32)) FROM projects_item")


def drop_statistics(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP STATISTICS IF EXISTS projects_item_slice")


class Migration(migrations.Migration):

    dependencies = [
        ('projects', '0013_channel_organisation'),
    ]

    operations = [
        migrations.CreateModel(
            name='DataSlice',
            fields=[
                ('bucket', models.PositiveSmallIntegerField(primary_key=True, serialize=False, verbose_name='分片')),
                ('version', models.BigIntegerField(default=0, verbose_name='数据版本')),
            ],
            options={
                'verbose_name': '分片数据版本',
                'verbose_name_plural': '分片数据版本',
            },
        ),
        migrations.AddField(
            model_name='evaluationstate',
            name='base_version',
            field=models.BigIntegerField(default=0, verbose_name='基础数据版本'),
        ),
        migrations.RunPython(create_statistics, drop_statistics),
    ]
