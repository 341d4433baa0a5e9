"""Triggers that reject UPDATE, DELETE and TRUNCATE on the audit entry and checkpoint tables."""

from django.db import migrations

from audit import triggers


def install(apps, schema_editor):
    triggers.execute(schema_editor.connection, triggers.install_sql(schema_editor.connection.vendor))


def drop(apps, schema_editor):
    triggers.execute(schema_editor.connection, triggers.drop_sql(schema_editor.connection.vendor))


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(install, drop, elidable=False),
    ]
