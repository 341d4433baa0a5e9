"""The audit trail. `audit.record(...)` is the one way to log an event."""


def record(action, actor=None, target=None, outcome="success", case=None, **details):
    """Log one event in the caller's transaction (see audit.recording.record)."""
    from audit.recording import record as _record

    return _record(action, actor, target, outcome, case, **details)


def outbox_rows(action, actor=None, target=None, outcome="success", case=None, **details):
    """The rows `record` would write for this event, written nowhere (audit.recording)."""
    from audit.recording import outbox_rows as _outbox_rows

    return _outbox_rows(action, actor, target, outcome, case, **details)


def record_unless_found(query, params, rows):
    """Run a SELECT and record `rows` in the same statement when it finds nothing."""
    from audit.recording import record_unless_found as _record_unless_found

    return _record_unless_found(query, params, rows)
