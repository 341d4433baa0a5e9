"""The `occurred_at` index becomes `(occurred_at, seq)`.

A `since`/`until` window is resolved to the seq range it spans (audit.selectors.
filtered_entries: min and max seq over the window), which this index answers from the index
alone, in time that follows the window rather than the log. It serves occurred_at alone as
the old index did, so that one is dropped once the new one is built.

On PostgreSQL both steps are CONCURRENTLY (the table is large and written all the time), so
the migration is not atomic; elsewhere (SQLite) they are the plain operations.
"""

from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db import migrations, models


def _plain_off_postgresql(concurrent, plain):
    """`concurrent` on PostgreSQL, `plain`'s database steps elsewhere (same state change)."""

    class Operation(concurrent):
        def database_forwards(self, app_label, schema_editor, from_state, to_state):
            if schema_editor.connection.vendor == "postgresql":
                super().database_forwards(app_label, schema_editor, from_state, to_state)
            else:
                plain.database_forwards(self, app_label, schema_editor, from_state, to_state)

        def database_backwards(self, app_label, schema_editor, from_state, to_state):
            if schema_editor.connection.vendor == "postgresql":
                super().database_backwards(app_label, schema_editor, from_state, to_state)
            else:
                plain.database_backwards(self, app_label, schema_editor, from_state, to_state)

    Operation.__name__ = concurrent.__name__
    return Operation


AddIndex = _plain_off_postgresql(AddIndexConcurrently, migrations.AddIndex)
RemoveIndex = _plain_off_postgresql(RemoveIndexConcurrently, migrations.RemoveIndex)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("audit", "0005_witnessed_log"),
    ]

    operations = [
        AddIndex(
            model_name="auditentry",
            index=models.Index(fields=["occurred_at", "seq"], name="audit_audit_occurre_c4e33e_idx"),
        ),
        RemoveIndex(
            model_name="auditentry",
            name="audit_audit_occurre_1f77b9_idx",
        ),
    ]
