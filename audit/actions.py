"""The closed list of audit actions: dotted names, one place. Unknown names are a bug.

Each name's words (English, translated in the one catalogue) are what the auditor pages show.
"""

from django.utils.translation import gettext_lazy as _

ACTIONS = {
    # Sign-in and sessions
    "auth.login": _("signed in"),
    "auth.login_failed": _("sign-in refused (wrong password, unknown or locked account)"),
    "auth.mfa_failed": _("second factor refused (wrong or replayed code)"),
    "auth.mfa_enrolled": _("enrolled a TOTP device"),
    "auth.mfa_reset": _("an administrator reset a member's TOTP device"),
    "auth.lockout": _("account locked after repeated failures"),
    "auth.unlock": _("an administrator released a locked account"),
    "auth.logout": _("signed out"),
    "auth.password_changed": _("changed a password"),
    "auth.sessions_ended": _("sessions and tokens of a member ended"),
    "auth.token_rejected": _("an API token was refused (unknown, expired or revoked)"),
    "auth.password_verified": _("password accepted; the TOTP step is still to come"),
    "auth.session_expired": _("a session ended after 30 minutes idle or 12 hours"),
    "auth.session_ended": _("a member ended one of their own sessions"),
    # Members, tokens, countries, keys
    "member.create": _("created a member"),
    "member.update": _("changed a member's details (country, roles, status, contact or language)"),
    "member.disable": _("disabled a member"),
    "token.issue": _("issued an API token"),
    "token.revoke": _("revoked an API token"),
    "country.create": _("added a partner country"),
    "country.update": _("renamed a partner country"),
    "key.create": _("created a keyring"),
    "key.rotate": _("rotated a key-encryption key and re-wrapped data keys"),
    "key.retire": _("retired an old key"),
    "lookup_key.rotate": _("rotated the lookup key and recomputed blind indexes"),
    # Cases
    "case.create": _("created a case"),
    "case.view": _("read a case"),
    "case.update": _("edited a case"),
    "case.search": _("listed or searched cases"),
    "subject.add": _("added a subject"),
    "subject.view": _("listed a case's subjects"),
    "subject.update": _("edited a subject"),
    "identifier.add": _("added an identifier"),
    # Attachments
    "attachment.upload": _("uploaded an evidence file"),
    "attachment.list": _("listed a case's evidence files"),
    "attachment.download": _("downloaded an evidence file"),
    "attachment.integrity_failure": _("an evidence file failed its integrity check"),
    "attachment.rewrap": _("re-wrapped an evidence file's data key"),
    # Sharing
    "share.open": _("opened a share request"),
    "share.approve": _("approved a share request"),
    "share.deny": _("denied a share request"),
    "share.revoke": _("revoked a share"),
    "share.expire": _("a share expired"),
    "share.list": _("listed share requests or a case's shares"),
    "share.renew": _("asked to renew a share before it expires"),
    "share.cancel": _("a pending renewal was cancelled because its share was revoked"),
    "share.policy_update": _("an administrator changed how many liaisons approve a country's "
                             "shares of one handling code"),
    "notification.read": _("marked their notifications read"),
    # Hit/no-hit lookup
    "lookup.search": _("searched partners' holdings for an identifier"),
    "lookup.rate_limited": _("a lookup was refused by the rate limit"),
    "lookup.unavailable": _("a lookup was refused: its rate limiter could not be reached"),
    "lookup.hits_list": _("a liaison listed partners' hits on their country's cases"),
    # Joint operations: plans, tasks, linked cases, security gaps
    "plan.create": _("drafted a joint operational plan"),
    "plan.invite": _("invited a country to take part in a plan"),
    "plan.join": _("a liaison accepted their country's invitation to a plan"),
    "plan.decline": _("a liaison declined their country's invitation to a plan"),
    "plan.activate": _("activated a plan"),
    "plan.update": _("edited a plan"),
    "plan.close": _("closed a plan (completed or cancelled)"),
    "plan.link_case": _("linked one of their country's cases to a plan"),
    "task.assign": _("assigned a plan's task to a participating country"),
    "task.update": _("updated a plan's task"),
    "gap.create": _("recorded a border security gap"),
    "gap.update": _("updated a border security gap"),
    "gap.evidence_upload": _("added an evidence file to a security gap"),
    "gap.evidence_download": _("downloaded a security gap's evidence file"),
    "gap.evidence_rewrap": _("re-wrapped a security gap's evidence file's data key"),
    "flows.import": _("imported a revision of the country's migration-flow figures"),
    # Refusals
    "access.denied": _("asked for something not visible or not allowed"),
    # Audit itself
    "audit.view": _("read audit entries"),
    "audit.export": _("exported audit entries"),
    "audit.verify": _("verified the audit chain"),
    "audit.witness_failed": _("a witness refused or missed a checkpoint of the audit log"),
    "audit.epoch_started": _("the audit log started a new epoch after a restore"),
}


class Outcome:
    """How an audited action ended."""

    SUCCESS = "success"
    DENIED = "denied"
    FAILURE = "failure"
    ALL = (SUCCESS, DENIED, FAILURE)


OUTCOME_LABELS = {
    Outcome.SUCCESS: _("success"),
    Outcome.DENIED: _("denied"),
    Outcome.FAILURE: _("failure"),
}


def action_label(name: str) -> str:
    """The action's words in the active language (the name itself for an unknown one)."""
    return ACTIONS.get(name, name)
