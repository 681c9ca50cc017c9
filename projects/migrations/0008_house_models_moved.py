"""The house by feature: reports, milestones and targets now live in `reporting`, the 指标体系 in
`indicators` (their migrations renamed the tables and created the state); the evaluation clock
(EvaluationState) moves here from `portfolio`. Content types follow, so permissions and admin
history keep pointing at the same rows."""
from django.db import migrations, models


def rename_table(old, new):
    return migrations.RunSQL(f'ALTER TABLE "{old}" RENAME TO "{new}"', f'ALTER TABLE "{new}" RENAME TO "{old}"')


CONTENT_TYPES = [  # (old app, new app, model)
    ("projects", "reporting", "annualtarget"),
    ("projects", "reporting", "milestone"),
    ("projects", "reporting", "statusreport"),
    ("projects", "reporting", "historicalannualtarget"),
    ("projects", "reporting", "historicalmilestone"),
    ("projects", "reporting", "historicalstatusreport"),
    ("projects", "indicators", "indicatortable"),
    ("projects", "indicators", "indicator"),
    ("projects", "indicators", "indicatorvalue"),
    ("projects", "indicators", "historicalindicator"),
    ("projects", "indicators", "historicalindicatorvalue"),
    ("portfolio", "indicators", "indicatorstatus"),
    ("portfolio", "projects", "evaluationstate"),
]


def move_content_types(apps, schema_editor, backwards=False):
    ContentType = apps.get_model("contenttypes", "ContentType")
    for old, new, model in CONTENT_TYPES:
        source, target = (new, old) if backwards else (old, new)
        if ContentType.objects.filter(app_label=target, model=model).exists():
            continue  # already there (made by a migrate that ran before this one)
        ContentType.objects.filter(app_label=source, model=model).update(app_label=target)


def move_content_types_back(apps, schema_editor):
    move_content_types(apps, schema_editor, backwards=True)


class Migration(migrations.Migration):

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('projects', '0007_unit_contact'),
        ('portfolio', '0010_house_models_moved'),
        ('reporting', '0001_moved_from_projects'),
        ('indicators', '0001_moved_from_projects'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='EvaluationState',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('as_of', models.DateField(null=True, verbose_name='评估日期')),
                        ('version', models.BigIntegerField(default=0, verbose_name='数据版本')),
                        ('evaluated_at', models.DateTimeField(null=True, verbose_name='最近全量评估')),
                    ],
                    options={
                        'verbose_name': '评估状态',
                        'verbose_name_plural': '评估状态',
                    },
                ),
            ],
            database_operations=[rename_table("portfolio_evaluationstate", "projects_evaluationstate")],
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name='historicalannualtarget',
                    name='history_user',
                ),
                migrations.RemoveField(
                    model_name='historicalannualtarget',
                    name='item',
                ),
                migrations.RemoveField(
                    model_name='historicalindicator',
                    name='history_user',
                ),
                migrations.RemoveField(
                    model_name='historicalindicator',
                    name='plan',
                ),
                migrations.RemoveField(
                    model_name='historicalindicator',
                    name='responsible_unit',
                ),
                migrations.RemoveField(
                    model_name='historicalindicator',
                    name='table',
                ),
                migrations.RemoveField(
                    model_name='historicalindicatorvalue',
                    name='entered_by',
                ),
                migrations.RemoveField(
                    model_name='historicalindicatorvalue',
                    name='history_user',
                ),
                migrations.RemoveField(
                    model_name='historicalindicatorvalue',
                    name='indicator',
                ),
                migrations.RemoveField(
                    model_name='historicalmilestone',
                    name='history_user',
                ),
                migrations.RemoveField(
                    model_name='historicalmilestone',
                    name='item',
                ),
                migrations.RemoveField(
                    model_name='historicalstatusreport',
                    name='filed_by',
                ),
                migrations.RemoveField(
                    model_name='historicalstatusreport',
                    name='history_user',
                ),
                migrations.RemoveField(
                    model_name='historicalstatusreport',
                    name='item',
                ),
                migrations.RemoveField(
                    model_name='indicator',
                    name='plan',
                ),
                migrations.RemoveField(
                    model_name='indicator',
                    name='responsible_unit',
                ),
                migrations.RemoveField(
                    model_name='indicator',
                    name='table',
                ),
                migrations.RemoveField(
                    model_name='indicatorvalue',
                    name='indicator',
                ),
                migrations.RemoveField(
                    model_name='indicatortable',
                    name='plan',
                ),
                migrations.RemoveField(
                    model_name='indicatorvalue',
                    name='entered_by',
                ),
                migrations.RemoveField(
                    model_name='milestone',
                    name='item',
                ),
                migrations.RemoveField(
                    model_name='statusreport',
                    name='filed_by',
                ),
                migrations.RemoveField(
                    model_name='statusreport',
                    name='item',
                ),
                migrations.DeleteModel(
                    name='AnnualTarget',
                ),
                migrations.DeleteModel(
                    name='HistoricalAnnualTarget',
                ),
                migrations.DeleteModel(
                    name='HistoricalIndicator',
                ),
                migrations.DeleteModel(
                    name='HistoricalIndicatorValue',
                ),
                migrations.DeleteModel(
                    name='HistoricalMilestone',
                ),
                migrations.DeleteModel(
                    name='HistoricalStatusReport',
                ),
                migrations.DeleteModel(
                    name='Indicator',
                ),
                migrations.DeleteModel(
                    name='IndicatorTable',
                ),
                migrations.DeleteModel(
                    name='IndicatorValue',
                ),
                migrations.DeleteModel(
                    name='Milestone',
                ),
                migrations.DeleteModel(
                    name='StatusReport',
                ),
            ],
        ),
        migrations.RunPython(move_content_types, move_content_types_back),
    ]
