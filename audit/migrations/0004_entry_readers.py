"""Each entry names, in its hashed body, the countries whose auditors may read it.

Adds the nullable `readers` column (entries already chained keep NULL: they are not rewritten,
and the read rule in audit.selectors covers them) and replaces the CHECK constraint that ties
the columns to the body with its version 2, which also ties `readers`. The append-only
triggers are reinstalled in case the column's addition rebuilt the table (SQLite).
"""

from django.db import migrations, models

from audit import triggers


def constraint_v2(apps, schema_editor):
    connection = schema_editor.connection
    triggers.drop_body_constraint(connection)
    triggers.add_body_constraint(connection, check=triggers.BODY_MATCHES_COLUMNS)
    triggers.drop(connection)
    triggers.install(connection)


def constraint_v1(apps, schema_editor):
    connection = schema_editor.connection
    triggers.drop_body_constraint(connection)
    # Entries chained since list their readers, which version 1 does not allow for.
    triggers.add_body_constraint(
        connection, validate=False, check=triggers.BODY_MATCHES_COLUMNS_V1
    )


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0003_entry_body"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditentry",
            name="readers",
            field=models.CharField(blank=True, max_length=64, null=True),
        ),
        migrations.RunPython(constraint_v2, constraint_v1, elidable=False),
    ]
