"""Reports, milestones and annual targets moved from `projects` with their rows and history:
the tables are renamed, the model state is created here (projects 0008 drops it there)."""
import django.db.models.deletion
import simple_history.models
from django.conf import settings
from django.db import migrations, models


def rename_table(old, new):
    """Keep every row: the model moved apps, its table is renamed (both ways)."""
    return migrations.RunSQL(f'ALTER TABLE "{old}" RENAME TO "{new}"', f'ALTER TABLE "{new}" RENAME TO "{old}"')


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('projects', '0007_unit_contact'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='HistoricalAnnualTarget',
                    fields=[
                        ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                        ('year', models.PositiveSmallIntegerField(verbose_name='年度')),
                        ('planned_investment', models.DecimalField(blank=True, decimal_places=4, max_digits=14, null=True, verbose_name='计划投资（亿元）')),
                        ('target_text', models.TextField(blank=True, verbose_name='年度目标')),
                        ('history_id', models.AutoField(primary_key=True, serialize=False)),
                        ('history_date', models.DateTimeField(db_index=True)),
                        ('history_change_reason', models.CharField(max_length=100, null=True)),
                        ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                        ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('item', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='projects.item', verbose_name='事项')),
                    ],
                    options={
                        'verbose_name': 'historical 年度推进计划',
                        'verbose_name_plural': 'historical 年度推进计划',
                        'ordering': ('-history_date', '-history_id'),
                        'get_latest_by': ('history_date', 'history_id'),
                    },
                    bases=(simple_history.models.HistoricalChanges, models.Model),
                ),
                migrations.CreateModel(
                    name='HistoricalMilestone',
                    fields=[
                        ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                        ('name', models.CharField(max_length=100, verbose_name='节点')),
                        ('due_date', models.DateField(verbose_name='计划日期')),
                        ('met_on', models.DateField(blank=True, null=True, verbose_name='完成日期')),
                        ('history_id', models.AutoField(primary_key=True, serialize=False)),
                        ('history_date', models.DateTimeField(db_index=True)),
                        ('history_change_reason', models.CharField(max_length=100, null=True)),
                        ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                        ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('item', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='projects.item', verbose_name='事项')),
                    ],
                    options={
                        'verbose_name': 'historical 节点',
                        'verbose_name_plural': 'historical 节点',
                        'ordering': ('-history_date', '-history_id'),
                        'get_latest_by': ('history_date', 'history_id'),
                    },
                    bases=(simple_history.models.HistoricalChanges, models.Model),
                ),
                migrations.CreateModel(
                    name='HistoricalStatusReport',
                    fields=[
                        ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                        ('month', models.DateField(help_text='该月 1 日', verbose_name='月份')),
                        ('status', models.CharField(choices=[('not_started', '未开工'), ('in_progress', '推进中'), ('completed', '已完成'), ('suspended', '暂停'), ('cancelled', '已取消')], max_length=20, verbose_name='状态')),
                        ('progress_pct', models.DecimalField(blank=True, decimal_places=2, max_digits=5, null=True, verbose_name='形象进度（%）')),
                        ('month_investment', models.DecimalField(blank=True, decimal_places=4, max_digits=14, null=True, verbose_name='本月完成投资（亿元）')),
                        ('cumulative_investment', models.DecimalField(blank=True, decimal_places=4, max_digits=14, null=True, verbose_name='累计完成投资（亿元）')),
                        ('progress_text', models.TextField(blank=True, verbose_name='进展情况')),
                        ('problems', models.TextField(blank=True, verbose_name='存在问题')),
                        ('next_steps', models.TextField(blank=True, verbose_name='下步计划')),
                        ('filed_at', models.DateTimeField(blank=True, editable=False, verbose_name='填报时间')),
                        ('updated_at', models.DateTimeField(blank=True, editable=False, verbose_name='更新时间')),
                        ('version', models.PositiveIntegerField(default=1, verbose_name='版本')),
                        ('history_id', models.AutoField(primary_key=True, serialize=False)),
                        ('history_date', models.DateTimeField(db_index=True)),
                        ('history_change_reason', models.CharField(max_length=100, null=True)),
                        ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                        ('filed_by', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='填报人')),
                        ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('item', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='projects.item', verbose_name='事项')),
                    ],
                    options={
                        'verbose_name': 'historical 进度填报',
                        'verbose_name_plural': 'historical 进度填报',
                        'ordering': ('-history_date', '-history_id'),
                        'get_latest_by': ('history_date', 'history_id'),
                    },
                    bases=(simple_history.models.HistoricalChanges, models.Model),
                ),
                migrations.CreateModel(
                    name='AnnualTarget',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('year', models.PositiveSmallIntegerField(verbose_name='年度')),
                        ('planned_investment', models.DecimalField(blank=True, decimal_places=4, max_digits=14, null=True, verbose_name='计划投资（亿元）')),
                        ('target_text', models.TextField(blank=True, verbose_name='年度目标')),
                        ('item', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='annual_targets', to='projects.item', verbose_name='事项')),
                    ],
                    options={
                        'verbose_name': '年度推进计划',
                        'verbose_name_plural': '年度推进计划',
                        'ordering': ['item', 'year'],
                        'constraints': [models.UniqueConstraint(fields=('item', 'year'), name='target_unique_year'), models.CheckConstraint(condition=models.Q(('planned_investment__isnull', True), ('planned_investment__gte', 0), _connector='OR'), name='target_investment_nonnegative')],
                    },
                ),
                migrations.CreateModel(
                    name='Milestone',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(max_length=100, verbose_name='节点')),
                        ('due_date', models.DateField(verbose_name='计划日期')),
                        ('met_on', models.DateField(blank=True, null=True, verbose_name='完成日期')),
                        ('item', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='milestones', to='projects.item', verbose_name='事项')),
                    ],
                    options={
                        'verbose_name': '节点',
                        'verbose_name_plural': '节点',
                        'ordering': ['item', 'due_date'],
                        'indexes': [models.Index(condition=models.Q(('met_on__isnull', True)), fields=['due_date'], name='milestone_due')],
                    },
                ),
                migrations.CreateModel(
                    name='StatusReport',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('month', models.DateField(help_text='该月 1 日', verbose_name='月份')),
                        ('status', models.CharField(choices=[('not_started', '未开工'), ('in_progress', '推进中'), ('completed', '已完成'), ('suspended', '暂停'), ('cancelled', '已取消')], max_length=20, verbose_name='状态')),
                        ('progress_pct', models.DecimalField(blank=True, decimal_places=2, max_digits=5, null=True, verbose_name='形象进度（%）')),
                        ('month_investment', models.DecimalField(blank=True, decimal_places=4, max_digits=14, null=True, verbose_name='本月完成投资（亿元）')),
                        ('cumulative_investment', models.DecimalField(blank=True, decimal_places=4, max_digits=14, null=True, verbose_name='累计完成投资（亿元）')),
                        ('progress_text', models.TextField(blank=True, verbose_name='进展情况')),
                        ('problems', models.TextField(blank=True, verbose_name='存在问题')),
                        ('next_steps', models.TextField(blank=True, verbose_name='下步计划')),
                        ('filed_at', models.DateTimeField(auto_now_add=True, verbose_name='填报时间')),
                        ('updated_at', models.DateTimeField(auto_now=True, verbose_name='更新时间')),
                        ('version', models.PositiveIntegerField(default=1, verbose_name='版本')),
                        ('filed_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, to=settings.AUTH_USER_MODEL, verbose_name='填报人')),
                        ('item', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='reports', to='projects.item', verbose_name='事项')),
                    ],
                    options={
                        'verbose_name': '进度填报',
                        'verbose_name_plural': '进度填报',
                        'ordering': ['item', '-month'],
                        'constraints': [models.UniqueConstraint(fields=('item', 'month'), name='report_one_per_month'), models.CheckConstraint(condition=models.Q(('progress_pct__isnull', True), models.Q(('progress_pct__gte', 0), ('progress_pct__lte', 100)), _connector='OR'), name='report_progress_range'), models.CheckConstraint(condition=models.Q(('month_investment__isnull', True), ('month_investment__gte', 0), _connector='OR'), name='report_month_investment_nonnegative'), models.CheckConstraint(condition=models.Q(('cumulative_investment__isnull', True), ('cumulative_investment__gte', 0), _connector='OR'), name='report_cumulative_nonnegative')],
                    },
                ),
    
            ],
            database_operations=[
            rename_table("projects_annualtarget", "reporting_annualtarget"),
            rename_table("projects_milestone", "reporting_milestone"),
            rename_table("projects_statusreport", "reporting_statusreport"),
            rename_table("projects_historicalannualtarget", "reporting_historicalannualtarget"),
            rename_table("projects_historicalmilestone", "reporting_historicalmilestone"),
            rename_table("projects_historicalstatusreport", "reporting_historicalstatusreport"),
            ],
        ),
    ]
