"""Store each entry's hashed body beside its columns, tied to them by a CHECK constraint.

Verification then hashes the stored body instead of rebuilding canonical JSON from sixteen
columns per entry (docs/PERFORMANCE.md, Audit). Existing entries get the body their columns
spell; the append-only triggers are lifted for that one fill and put back.
"""

from django.db import migrations, models

from audit import chain, triggers


def fill_bodies(apps, schema_editor):
    """Give existing entries their bodies, then (re)install the append-only triggers: on
    SQLite adding the column rebuilds the table, which drops them."""
    connection = schema_editor.connection
    AuditEntry = apps.get_model("audit", "AuditEntry")
    triggers.drop(connection)
    for entry in AuditEntry.objects.order_by("seq").iterator(chunk_size=2000):
        body = chain.canonical_json(chain.entry_dict(entry)).decode()
        AuditEntry.objects.filter(seq=entry.seq).update(body=body)
    triggers.install(connection)


def add_constraint(apps, schema_editor):
    triggers.add_body_constraint(schema_editor.connection)


def drop_constraint(apps, schema_editor):
    triggers.drop_body_constraint(schema_editor.connection)


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0002_append_only_triggers"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditentry",
            name="body",
            field=models.TextField(default="", editable=False),
            preserve_default=False,
        ),
        migrations.RunPython(fill_bodies, migrations.RunPython.noop, elidable=False),
        migrations.RunPython(add_constraint, drop_constraint, elidable=False),
    ]
