import hashlib

from django.db import migrations, models


def fill(apps, schema_editor):
    Task = apps.get_model("reporting", "Task")
    TaskForm = apps.get_model("reporting", "TaskForm")
    for task in Task.objects.all():
        hashes = sorted(TaskForm.objects.filter(task=task).values_list("version__content_hash", flat=True))
        key = hashlib.sha256("\n".join(hashes).encode()).hexdigest() if hashes else ""
        Task.objects.filter(pk=task.pk).update(catalog_key=key)


class Migration(migrations.Migration):

    dependencies = [
        ("reporting", "0100_arch_transition"),
    ]

    operations = [
        migrations.AddField(
            model_name="task",
            name="catalog_key",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
