"""The Transition model moved to reporting (reporting 0100); the table stays. State only."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('review', '0001_initial'),
        ('reporting', '0100_arch_transition'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name='Transition')],
            database_operations=[],
        ),
    ]
