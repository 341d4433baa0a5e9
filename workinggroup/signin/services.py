"""Every sign-in state change: each one runs in a transaction and is audited there.

Sessions are tracked by MemberSession rows; ending a session deletes its row and its
stored session, so the old cookie signs nobody in. Ending "everything" of a member also
revokes every API token they hold.
"""

from importlib import import_module

import django_otp
from django.conf import settings
from django.contrib.auth import logout as auth_logout
from django.contrib.auth import update_session_auth_hash
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

import audit
from audit.actions import Outcome
from workinggroup.models import ApiToken, User
from workinggroup.signin import lockout, mfa
from workinggroup.signin.models import MemberSession

SESSION_ID_KEY = "wg_member_session"


def _client(request) -> tuple[str | None, str]:
    return request.META.get("REMOTE_ADDR"), request.headers.get("User-Agent", "")[:200]


def _delete_stored_sessions(keys) -> None:
    """Delete sessions from whichever engine stores them (database, cache, ...)."""
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    for key in keys:
        if key:
            store.delete(key)


def _end_sessions(rows) -> int:
    rows = list(rows)
    _delete_stored_sessions(row.session_key for row in rows)
    MemberSession.objects.filter(pk__in=[row.pk for row in rows]).delete()
    return len(rows)


def _forget_expired(user) -> None:
    """Drop records of this member's sessions that the limits have already ended."""
    now = timezone.now()
    expired = [row for row in MemberSession.objects.filter(user=user) if row.ended_by_limits(now)]
    if expired:
        _end_sessions(expired)


def end_sessions_and_tokens(member: User) -> tuple[int, int]:
    """End every session and revoke every token of a member; the caller audits and commits."""
    revoked = ApiToken.objects.filter(user=member, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    ended = _end_sessions(MemberSession.objects.filter(user=member))
    return ended, revoked


# --- Session records -----------------------------------------------------------------------


def session_started(*, request, user) -> MemberSession:
    """Record a new signed-in session (called on every login(), so tests' logins count too)."""
    _forget_expired(user)
    previous = request.session.get(SESSION_ID_KEY)
    if previous:
        MemberSession.objects.filter(pk=previous).delete()
    ip, agent = _client(request)
    row = MemberSession.objects.create(
        user=user, session_key=request.session.session_key or "", ip=ip, user_agent=agent
    )
    request.session[SESSION_ID_KEY] = str(row.pk)
    return row


def current_session(request) -> MemberSession | None:
    """This request's session record, or None when the session was ended or never recorded."""
    session_id = request.session.get(SESSION_ID_KEY)
    if not session_id or not request.user.is_authenticated:
        return None
    try:
        return MemberSession.objects.filter(pk=session_id, user_id=request.user.pk).first()
    except ValidationError:
        return None


def session_touch(row: MemberSession, at) -> None:
    """Note activity; written at most once per SESSION_ACTIVITY_WRITE_SECONDS to save writes."""
    if (at - row.last_seen).total_seconds() >= settings.SESSION_ACTIVITY_WRITE_SECONDS:
        MemberSession.objects.filter(pk=row.pk).update(last_seen=at)
        row.last_seen = at


def session_sync_key(request, key_before: str | None) -> None:
    """Keep the record's session key in step when this request cycled it (a password change)."""
    key = request.session.session_key if hasattr(request, "session") else None
    if not key or key == key_before:
        return
    row_id = request.session.get(SESSION_ID_KEY)
    if row_id:
        try:
            MemberSession.objects.filter(pk=row_id).update(session_key=key)
        except ValidationError:
            pass


def session_expire(*, request, row: MemberSession | None, reason: str) -> None:
    """End this request's session because a limit passed (or its record is gone)."""
    user = request.user
    with transaction.atomic():
        if row is not None:
            row.delete()
            audit.record("auth.session_expired", user, target=user, reason=reason,
                         started=row.created_at, last_seen=row.last_seen)
    auth_logout(request)


def session_forget(request) -> None:
    """On logout(): drop the record of the session being flushed."""
    session_id = request.session.get(SESSION_ID_KEY) if hasattr(request, "session") else None
    if session_id:
        try:
            MemberSession.objects.filter(pk=session_id).delete()
        except ValidationError:
            pass


# --- Sign-in steps -------------------------------------------------------------------------


def password_verified(*, request, user) -> None:
    """The password step passed: the session exists but reaches only the MFA step."""
    audit.record("auth.password_verified", user, target=user)


def signin_failed(*, request, username: str, user: User | None, was_locked: bool) -> None:
    """A refused password step: audited with the reason, and a new lock audited once."""
    if was_locked:
        reason = "locked"
    elif user is None:
        reason = "unknown_username"
    elif not user.is_active:
        reason = "disabled"
    else:
        reason = "wrong_password"
    actor = user if user is not None else username[:150]
    target = user if user is not None else ("username", username[:64])
    with transaction.atomic():
        audit.record("auth.login_failed", actor, target=target, outcome=Outcome.DENIED,
                     reason=reason, failures=lockout.failure_count(username))
        if not was_locked and lockout.is_locked(username):
            audit.record("auth.lockout", actor, target=target, outcome=Outcome.DENIED,
                         failures=lockout.failure_count(username))


def mfa_failed(*, request, reason: str, enrolling: bool = False) -> bool:
    """A refused code: audited, and counted towards the lockout. Returns True when locked."""
    user = request.user
    username = user.get_username()
    was_locked = lockout.is_locked(username)
    lockout.count_failure(request, username)
    locked = lockout.is_locked(username)
    with transaction.atomic():
        audit.record("auth.mfa_failed", user, target=user, outcome=Outcome.DENIED,
                     reason=reason, step="enrol" if enrolling else "verify")
        if locked and not was_locked:
            audit.record("auth.lockout", user, target=user, outcome=Outcome.DENIED,
                         failures=lockout.failure_count(username))
    if locked:
        auth_logout(request)  # the receiver drops this session's record
    return locked


def signin_completed(*, request, device: TOTPDevice, enrolled: bool = False) -> None:
    """The code was right: mark the session verified under a fresh key, reset the count."""
    user = request.user
    with transaction.atomic():
        if enrolled:
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            TOTPDevice.objects.filter(user=user, confirmed=False).delete()
            audit.record("auth.mfa_enrolled", user, target=user, device=device.persistent_id)
        django_otp.login(request, device)
        request.session.pop(mfa.ENROL_DEVICE_KEY, None)
        request.session.cycle_key()  # a new session id for the new privilege
        MemberSession.objects.filter(pk=request.session.get(SESSION_ID_KEY)).update(
            verified_at=timezone.now(), session_key=request.session.session_key or ""
        )
        lockout.reset(user.get_username())
        audit.record("auth.login", user, target=user, mfa="totp")


def sign_out(*, request) -> None:
    """Sign out: every session and every API token of the member ends, not just this one.

    A session that never passed the TOTP step ends alone: the password by itself must not
    be enough to end a member's other sessions and tokens.
    """
    user = request.user
    verified = user.is_verified()
    with transaction.atomic():
        ended, revoked = end_sessions_and_tokens(user) if verified else (0, 0)
        audit.record("auth.logout", user, target=user, verified=verified,
                     sessions_ended=ended, tokens_revoked=revoked)
    auth_logout(request)  # the receiver drops this session's record when it is still there


def session_end(*, member_session: MemberSession, actor: User) -> None:
    """A member ends one of their own sessions (from /account/sessions/)."""
    with transaction.atomic():
        _end_sessions([member_session])
        audit.record("auth.session_ended", actor, target=actor,
                     session=str(member_session.pk), ip=member_session.ip or "")


def password_change(*, request, form) -> None:
    """Save a new password; every other session of the member ends (tokens stay)."""
    with transaction.atomic():
        user = form.save()
        update_session_auth_hash(request, user)  # keeps this session, under a new key
        others = MemberSession.objects.filter(user=user).exclude(
            pk=request.session.get(SESSION_ID_KEY)
        )
        ended = _end_sessions(others)
        audit.record("auth.password_changed", user, target=user, other_sessions_ended=ended)


# --- Administrators' actions ---------------------------------------------------------------


def member_sessions_end(*, member: User, actor) -> tuple[int, int]:
    """An administrator ends every session and token of a member at once."""
    with transaction.atomic():
        member = User.objects.select_for_update().get(pk=member.pk)
        ended, revoked = end_sessions_and_tokens(member)
        audit.record("auth.sessions_ended", actor, target=member, sessions_ended=ended,
                     tokens_revoked=revoked)
    return ended, revoked


def member_reset_mfa(*, member: User, actor) -> int:
    """Delete a member's TOTP devices and end their sessions and tokens; they re-enrol."""
    with transaction.atomic():
        member = User.objects.select_for_update().get(pk=member.pk)
        devices, _ = TOTPDevice.objects.filter(user=member).delete()
        ended, revoked = end_sessions_and_tokens(member)
        audit.record("auth.mfa_reset", actor, target=member, devices_deleted=devices,
                     sessions_ended=ended, tokens_revoked=revoked)
    return devices


def member_unlock(*, username: str, actor) -> int:
    """Release a locked username (also an unknown one); returns the failures cleared."""
    failures = lockout.failure_count(username)
    if failures == 0:
        return 0
    member = User.objects.filter(username=username).first()
    with transaction.atomic():
        lockout.reset(username)
        audit.record("auth.unlock", actor,
                     target=member if member is not None else ("username", username[:64]),
                     failures_cleared=failures)
    return failures
