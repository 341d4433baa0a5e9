"""Database triggers that make the audit tables append-only (installed by migration 0002).

The model already refuses update and delete; these refuse them to anyone who reaches the
tables with SQL. A database superuser can still drop a trigger, which is why checkpoints are
signed. A DELETE or TRUNCATE that would remove no row is let through, so Django's test
flush of an empty table works; an UPDATE or DELETE of a row, or a TRUNCATE of a table that
holds rows, is rejected.

This SQL is version 1 of the triggers; change it only together with a new migration.
"""

from django.db import transaction

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


# --- Columns tied to the hashed body (PostgreSQL) ----------------------------------------------
#
# Verification hashes each entry's stored body, the canonical JSON the hash covers. The columns
# beside it (what auditors filter on and see) are kept honest by this CHECK constraint: every
# column must say what the body says, compared as jsonb (so the body's key order and escapes do
# not matter, its content does). verify_chain confirms the constraint is in place and validated;
# where it is not (it was dropped, or SQLite, which gets none) the verifier compares every row's
# columns with its body in Python instead.

BODY_CONSTRAINT = "audit_entry_columns_match_body"
_UTC_TEXT = "to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
# Version 1 (migration audit.0003), before entries had readers; kept for that migration.
BODY_MATCHES_COLUMNS_V1 = (
    "body::jsonb = jsonb_build_object("
    "'seq', seq, "
    f"'occurred_at', {_UTC_TEXT.format('occurred_at')}, "
    f"'recorded_at', {_UTC_TEXT.format('recorded_at')}, "
    "'actor', actor, 'actor_country', actor_country, 'action', action, "
    "'target_type', target_type, 'target_id', target_id, 'case_id', case_id, "
    "'case_country', case_country, 'outcome', outcome, 'ip', ip, 'request_id', request_id, "
    "'details', details, 'prev_hash', prev_hash) "
    # jsonb equality takes 4.0 for 4; its text keeps the difference.
    "AND (body::jsonb -> 'details')::text = details::text"
)
# Version 2 (migration audit.0004): the body also lists `readers` when the column is set, and
# has no such key when it is NULL (entries chained before it existed).
BODY_MATCHES_COLUMNS = BODY_MATCHES_COLUMNS_V1.replace(
    "'prev_hash', prev_hash) ",
    "'prev_hash', prev_hash) || (CASE WHEN readers IS NULL THEN '{}'::jsonb "
    "ELSE jsonb_build_object('readers', to_jsonb(string_to_array(readers, ','))) END) ",
)


def add_body_constraint(connection, *, validate: bool = True,
                        check: str = BODY_MATCHES_COLUMNS) -> None:
    """Add the constraint (PostgreSQL; a no-op elsewhere), checking every existing row unless
    `validate` is false (then it holds for new rows only, and the verifier compares old ones).
    `check` is the current version unless an old migration asks for its own."""
    if connection.vendor == "postgresql":
        not_valid = "" if validate else " NOT VALID"
        execute(
            connection,
            [
                f"ALTER TABLE audit_auditentry ADD CONSTRAINT {BODY_CONSTRAINT} "
                f"CHECK ({check}){not_valid}"
            ],
        )


def drop_body_constraint(connection) -> None:
    if connection.vendor == "postgresql":
        execute(
            connection,
            [f"ALTER TABLE audit_auditentry DROP CONSTRAINT IF EXISTS {BODY_CONSTRAINT}"],
        )


def body_constraint_holds(connection) -> bool:
    """True when the entry table carries the constraint exactly as this code writes it, and
    PostgreSQL has validated it.

    By definition, not by name: the table's owner could re-add a constraint of that name that
    checks nothing. The reference definition is PostgreSQL's own rendering of the constraint
    on a scratch temporary copy of the table, made in a savepoint that is rolled back.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT convalidated, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conname = %s AND conrelid = 'audit_auditentry'::regclass AND contype = 'c'",
            [BODY_CONSTRAINT],
        )
        row = cursor.fetchone()
    return bool(row and row[0] and row[1] == _reference_definition(connection))


_reference = {}


def _reference_definition(connection) -> str:
    if "definition" not in _reference:
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            cursor.execute(
                "CREATE TEMPORARY TABLE audit_entry_reference (LIKE audit_auditentry) "
                "ON COMMIT DROP"
            )
            cursor.execute(
                f"ALTER TABLE audit_entry_reference ADD CONSTRAINT audit_entry_reference_check "
                f"CHECK ({BODY_MATCHES_COLUMNS})"
            )
            cursor.execute(
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conname = 'audit_entry_reference_check'"
            )
            _reference["definition"] = cursor.fetchone()[0]
            transaction.set_rollback(True, using=connection.alias)
    return _reference["definition"]
