"""The closed list of audit actions: dotted names, one place. Unknown names are a bug."""

ACTIONS = {
    # Sign-in and sessions
    "auth.login": "signed in",
    "auth.login_failed": "sign-in refused (wrong password, unknown or locked account)",
    "auth.mfa_failed": "second factor refused (wrong or replayed code)",
    "auth.mfa_enrolled": "enrolled a TOTP device",
    "auth.mfa_reset": "an administrator reset a member's TOTP device",
    "auth.lockout": "account locked after repeated failures",
    "auth.unlock": "an administrator released a locked account",
    "auth.logout": "signed out",
    "auth.password_changed": "changed a password",
    "auth.sessions_ended": "sessions and tokens of a member ended",
    "auth.token_rejected": "an API token was refused (unknown, expired or revoked)",
    "auth.password_verified": "password accepted; the TOTP step is still to come",
    "auth.session_expired": "a session ended after 30 minutes idle or 12 hours",
    "auth.session_ended": "a member ended one of their own sessions",
    # Members, tokens, countries, keys
    "member.create": "created a member",
    "member.update": "changed a member's country, roles or status",
    "member.disable": "disabled a member",
    "token.issue": "issued an API token",
    "token.revoke": "revoked an API token",
    "country.create": "added a partner country",
    "country.update": "renamed a partner country",
    "key.create": "created a keyring",
    "key.rotate": "rotated a key-encryption key and re-wrapped data keys",
    "key.retire": "retired an old key",
    "lookup_key.rotate": "rotated the lookup key and recomputed blind indexes",
    # Cases
    "case.create": "created a case",
    "case.view": "read a case",
    "case.update": "edited a case",
    "case.search": "listed or searched cases",
    "subject.add": "added a subject",
    "subject.view": "listed a case's subjects",
    "subject.update": "edited a subject",
    "identifier.add": "added an identifier",
    # Attachments
    "attachment.upload": "uploaded an evidence file",
    "attachment.list": "listed a case's evidence files",
    "attachment.download": "downloaded an evidence file",
    "attachment.integrity_failure": "an evidence file failed its integrity check",
    "attachment.rewrap": "re-wrapped an evidence file's data key",
    # Sharing
    "share.open": "opened a share request",
    "share.approve": "approved a share request",
    "share.deny": "denied a share request",
    "share.revoke": "revoked a share",
    "share.expire": "a share expired",
    "share.list": "listed share requests or a case's shares",
    "notification.read": "marked their notifications read",
    # Hit/no-hit lookup
    "lookup.search": "searched partners' holdings for an identifier",
    "lookup.rate_limited": "a lookup was refused by the rate limit",
    "lookup.unavailable": "a lookup was refused: its rate limiter could not be reached",
    "lookup.hits_list": "a liaison listed partners' hits on their country's cases",
    # Joint operations: plans, tasks, linked cases, security gaps
    "plan.create": "drafted a joint operational plan",
    "plan.invite": "invited a country to take part in a plan",
    "plan.join": "a liaison accepted their country's invitation to a plan",
    "plan.decline": "a liaison declined their country's invitation to a plan",
    "plan.activate": "activated a plan",
    "plan.update": "edited a plan",
    "plan.close": "closed a plan (completed or cancelled)",
    "plan.link_case": "linked one of their country's cases to a plan",
    "task.assign": "assigned a plan's task to a participating country",
    "task.update": "updated a plan's task",
    "gap.create": "recorded a border security gap",
    "gap.update": "updated a border security gap",
    "gap.evidence_upload": "added an evidence file to a security gap",
    "gap.evidence_download": "downloaded a security gap's evidence file",
    "flows.import": "imported a revision of the country's migration-flow figures",
    # Refusals
    "access.denied": "asked for something not visible or not allowed",
    # Audit itself
    "audit.view": "read audit entries",
    "audit.export": "exported audit entries",
    "audit.verify": "verified the audit chain",
    "audit.witness_failed": "a witness refused or missed a checkpoint of the audit log",
    "audit.epoch_started": "the audit log started a new epoch after a restore",
}


class Outcome:
    """How an audited action ended."""

    SUCCESS = "success"
    DENIED = "denied"
    FAILURE = "failure"
    ALL = (SUCCESS, DENIED, FAILURE)
