"""The Transition model moves from review to reporting (next to the workflow that writes it).

State only: the table `review_transition` created by review 0001 stays as it is.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

STATUS_CHOICES = [('not_started', '未填报'), ('draft', '填报中'), ('submitted', '已上报'), ('approved', '审核通过'),
                  ('rejected', '已驳回'), ('rechecked', '复核通过')]


class Migration(migrations.Migration):

    dependencies = [
        ('reporting', '0001_initial'),
        ('review', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Transition',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False,
                                                   verbose_name='ID')),
                        ('from_status', models.CharField(choices=STATUS_CHOICES, max_length=20)),
                        ('to_status', models.CharField(choices=STATUS_CHOICES, max_length=20)),
                        ('action', models.CharField(max_length=30)),
                        ('at', models.DateTimeField(auto_now_add=True, db_index=True)),
                        ('reason', models.TextField(blank=True)),
                        ('data', models.JSONField(blank=True, default=dict)),
                        ('actor', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL,
                                                    related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('submission', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE,
                                                         related_name='transitions', to='reporting.submission')),
                    ],
                    options={'ordering': ['-at', '-id'], 'db_table': 'review_transition'},
                ),
            ],
            database_operations=[],
        ),
    ]
