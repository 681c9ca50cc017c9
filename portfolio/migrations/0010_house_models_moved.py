"""EvaluationState moves to `projects`, IndicatorStatus to `indicators`: state only here, their
tables are renamed by the migrations that take them over."""
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('portfolio', '0009_indicator_status'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(
                    name='EvaluationState',
                ),
                migrations.DeleteModel(
                    name='IndicatorStatus',
                ),
            ],
        ),
    ]
