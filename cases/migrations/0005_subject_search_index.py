"""PostgreSQL: a trigram index for the case list's `q` on subjects' names and aliases.

The list's search reads the cases of matching subjects first (cases.listing); Django's
icontains is UPPER(..) LIKE, so the index is on the same expressions. SQLite scans.
"""

from django.db import migrations

SEARCH_INDEX = (
    "CREATE INDEX IF NOT EXISTS subject_search_trgm ON cases_subject USING gin "
    "((UPPER(full_name::text)) gin_trgm_ops, (UPPER(aliases::text)) gin_trgm_ops)"
)


def add_search_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        schema_editor.execute(SEARCH_INDEX)


def drop_search_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS subject_search_trgm")


class Migration(migrations.Migration):
    dependencies = [("cases", "0004_subject_grants")]

    operations = [migrations.RunPython(add_search_index, drop_search_index)]
