import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """Notice attachments point at the files app's StoredFile (the table has had no rows before this)."""

    dependencies = [
        ("communication", "0001_initial"),
        ("files", "0001_initial"),
    ]

    operations = [
        migrations.RemoveField(model_name="noticeattachment", name="stored_file_id"),
        migrations.AddField(
            model_name="noticeattachment",
            name="stored_file",
            field=models.ForeignKey(default=0, on_delete=django.db.models.deletion.PROTECT, related_name="+",
                                    to="files.storedfile"),
            preserve_default=False,
        ),
    ]
