"""The audit trail. `audit.record(...)` is the one way to log an event."""


def record(action, actor=None, target=None, outcome="success", case=None, **details):
    """Log one event in the caller's transaction (see audit.recording.record)."""
    from audit.recording import record as _record

    return _record(action, actor, target, outcome, case, **details)
