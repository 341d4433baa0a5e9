"""Database triggers that make the audit tables append-only (installed by migration 0002).

The model already refuses update and delete; these refuse them to anyone who reaches the
tables with SQL. A database superuser can still drop a trigger, which is why checkpoints are
signed. A DELETE or TRUNCATE that would remove no row is let through, so Django's test
flush of an empty table works; an UPDATE or DELETE of a row, or a TRUNCATE of a table that
holds rows, is rejected.

This SQL is version 1 of the triggers; change it only together with a new migration.
"""

TABLES = ("audit_auditentry", "audit_auditcheckpoint")

POSTGRESQL_FUNCTIONS = [
    """
    CREATE OR REPLACE FUNCTION audit_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'audit: % of % is not allowed (append-only)', TG_OP, TG_TABLE_NAME
            USING ERRCODE = 'insufficient_privilege';
    END $$
    """,
    """
    CREATE OR REPLACE FUNCTION audit_reject_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        has_rows boolean;
    BEGIN
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I.%I)', TG_TABLE_SCHEMA, TG_TABLE_NAME)
            INTO has_rows;
        IF has_rows THEN
            RAISE EXCEPTION 'audit: TRUNCATE of % is not allowed (append-only)', TG_TABLE_NAME
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN NULL;
    END $$
    """,
]


def _postgresql_triggers(table):
    return [
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION audit_reject_change()",
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION audit_reject_truncate()",
    ]


def _sqlite_triggers(table):
    return [
        f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} BEGIN "
        f"SELECT RAISE(ABORT, 'audit: UPDATE of {table} is not allowed (append-only)'); END",
        f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} BEGIN "
        f"SELECT RAISE(ABORT, 'audit: DELETE of {table} is not allowed (append-only)'); END",
    ]


def _trigger_names(vendor, table):
    if vendor == "postgresql":
        return [f"{table}_append_only", f"{table}_no_truncate"]
    return [f"{table}_no_update", f"{table}_no_delete"]


def install_sql(vendor) -> list[str]:
    """The statements that install the triggers on this database vendor."""
    if vendor == "postgresql":
        return POSTGRESQL_FUNCTIONS + [s for t in TABLES for s in _postgresql_triggers(t)]
    if vendor == "sqlite":
        return [s for t in TABLES for s in _sqlite_triggers(t)]
    raise NotImplementedError(f"no append-only triggers for {vendor}")


def drop_sql(vendor) -> list[str]:
    """The statements that remove the triggers (migration reversal, tamper tests)."""
    on = " ON {table}" if vendor == "postgresql" else ""
    statements = [
        f"DROP TRIGGER IF EXISTS {name}{on.format(table=table)}"
        for table in TABLES
        for name in _trigger_names(vendor, table)
    ]
    if vendor == "postgresql":
        statements += [
            "DROP FUNCTION IF EXISTS audit_reject_change()",
            "DROP FUNCTION IF EXISTS audit_reject_truncate()",
        ]
    return statements


def execute(connection, statements) -> None:
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def install(connection) -> None:
    execute(connection, install_sql(connection.vendor))


def drop(connection) -> None:
    execute(connection, drop_sql(connection.vendor))
