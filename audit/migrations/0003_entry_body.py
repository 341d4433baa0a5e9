"""Store each entry's hashed body beside its columns, tied to them by a CHECK constraint.

Verification then hashes the stored body instead of rebuilding canonical JSON from sixteen
columns per entry (docs/PERFORMANCE.md, Audit). Existing entries get the body their columns
spell; the append-only triggers are lifted for that one fill and put back.
"""

from django.db import migrations, models

from audit import chain, triggers


def fill_bodies(apps, schema_editor):
    """Give existing entries their bodies, then (re)install the append-only triggers: on
    SQLite adding the column rebuilds the table, which drops them.

    On PostgreSQL the bodies go into a temporary table a chunk at a time and into the entries
    with one UPDATE (a row-by-row UPDATE ran at ~2,400 entries/s); the audit table is locked
    for the whole migration, so run it when a short pause of the drain is acceptable.
    """
    connection = schema_editor.connection
    AuditEntry = apps.get_model("audit", "AuditEntry")
    triggers.drop(connection)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE TEMPORARY TABLE audit_entry_bodies (seq bigint PRIMARY KEY, body text) "
                "ON COMMIT DROP"
            )
            after = 0
            while chunk := list(AuditEntry.objects.filter(seq__gt=after).order_by("seq")[:5000]):
                cursor.executemany(
                    "INSERT INTO audit_entry_bodies (seq, body) VALUES (%s, %s)",
                    [(e.seq, chain.canonical_json(chain.entry_dict(e)).decode()) for e in chunk],
                )
                after = chunk[-1].seq
            cursor.execute(
                "UPDATE audit_auditentry AS e SET body = b.body FROM audit_entry_bodies AS b "
                "WHERE e.seq = b.seq"
            )
    else:
        for entry in AuditEntry.objects.order_by("seq").iterator(chunk_size=2000):
            body = chain.canonical_json(chain.entry_dict(entry)).decode()
            AuditEntry.objects.filter(seq=entry.seq).update(body=body)
    triggers.install(connection)


def add_constraint(apps, schema_editor):
    # The constraint as it was then: the readers column comes in 0004.
    triggers.add_body_constraint(
        schema_editor.connection, check=triggers.BODY_MATCHES_COLUMNS_V1
    )


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
