"""Services for the working group's members, countries and API tokens. Each one is audited."""

import datetime as dt
import secrets

from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

import audit
from workinggroup.models import ApiToken, Country, Role, User, clean_country_code, hash_token

ADMINISTRATOR = "administrator"

# Model-level permissions per role. Object access to cases never comes from these: guardian
# is always asked with accept_global_perms=False.
ROLE_PERMISSIONS = {
    Role.INVESTIGATOR: ["cases.add_case", "sharing.add_sharerequest", "sharing.view_sharerequest"],
    # Liaisons offer their country's cases as investigators do (issue 14); asking for a
    # partner's case stays the investigators' (sharing.services._open).
    Role.LIAISON: ["sharing.add_sharerequest", "sharing.view_sharerequest",
                   "sharing.decide_sharerequest"],
    Role.AUDITOR: ["audit.view_auditentry"],
    Role.STATISTICS: ["dashboard.import_flows"],  # their country's flow figures, nothing else
    ADMINISTRATOR: [
        "workinggroup.add_user",
        "workinggroup.change_user",
        "workinggroup.view_user",
        "workinggroup.view_country",
        "workinggroup.add_country",
        "workinggroup.change_country",
        "workinggroup.view_apitoken",
        "workinggroup.change_apitoken",
        "cases.view_case",  # the admin's metadata list only; the case gate ignores it
        "sharing.view_sharerequest",  # metadata in the admin; never case content
        # The approval policy (issue 18): how many liaisons approve, per country and code.
        "sharing.view_sharepolicy",
        "sharing.add_sharepolicy",
        "sharing.change_sharepolicy",
    ],
}
ROLE_NAMES = [*Role.values, ADMINISTRATOR]


class MemberError(ValueError):
    """A member, country or token request that cannot be carried out; the message says why."""


def _permission(dotted: str) -> Permission:
    app_label, codename = dotted.split(".")
    try:
        return Permission.objects.get(content_type__app_label=app_label, codename=codename)
    except Permission.DoesNotExist:
        raise LookupError(f"permission {dotted} does not exist (ROLE_PERMISSIONS)") from None


def sync_role_groups() -> None:
    """Create the role groups and give each exactly the permissions ROLE_PERMISSIONS lists."""
    for role, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=f"role:{role}")
        group.permissions.set([_permission(p) for p in perms])


def _role_group_name(role: str) -> str:
    return f"role:{role}"


def sync_member_groups(user: User, roles: list[str] | None = None) -> None:
    """The one function that keeps a member's groups in step with their country and roles."""
    if roles is None:
        roles = user.roles
    wanted = [_role_group_name(r) for r in roles]
    if user.country_id:
        wanted.append(Country.group_name_for(user.country_id))
    groups = list(Group.objects.filter(name__in=wanted))
    missing = set(wanted) - {g.name for g in groups}
    if missing:
        raise MemberError(f"no such group: {', '.join(sorted(missing))}")
    user.groups.set(groups)
    user.forget_roles()
    is_staff = ADMINISTRATOR in roles
    if user.is_staff != is_staff:
        user.is_staff = is_staff
        user.save(update_fields=["is_staff"])


def validate_member(*, country_code, roles, oversight, username=None, password=None) -> Country:
    """Check a member's country, roles and flags; returns the country (None for admins)."""
    if not roles:
        raise MemberError("role: at least one role is required")
    unknown = sorted(set(roles) - set(ROLE_NAMES))
    if unknown:
        choices = ", ".join(ROLE_NAMES)
        raise MemberError(f"role: unknown role {unknown[0]!r} (choose from {choices})")
    if ADMINISTRATOR in roles and len(set(roles)) > 1:
        raise MemberError("role: an administrator holds no other role")
    if oversight and Role.AUDITOR not in roles:
        raise MemberError("oversight: only auditors can have trilateral oversight")
    country = None
    if ADMINISTRATOR in roles:
        if country_code:
            raise MemberError("country: administrators belong to no country, so hold no case")
    else:
        if not country_code:
            raise MemberError("country: required for investigators, liaisons and auditors")
        try:
            country = Country.objects.get(code=clean_country_code(country_code))
        except ValidationError as exc:
            raise MemberError("country: " + " ".join(exc.messages)) from None
    if username is not None and User.objects.filter(username__iexact=username).exists():
        raise MemberError(f"username: {username!r} is already taken")
    if password is not None:
        try:
            validate_password(password, User(username=username or ""))
        except ValidationError as exc:
            raise MemberError("password: " + " ".join(exc.messages)) from None
    return country


def member_create(
    *, username, password, roles, country_code=None, email="", oversight=False, actor=None
) -> User:
    """Create a member with their country and roles; nothing is created when anything is wrong."""
    roles = sorted(set(roles))
    if not username or len(username) > 150:
        raise MemberError("username: required, at most 150 characters")
    country = validate_member(
        country_code=country_code,
        roles=roles,
        oversight=oversight,
        username=username,
        password=password,
    )
    with transaction.atomic():
        user = User(username=username, email=email, country=country, oversight=oversight)
        user.set_password(password)
        user.save()
        sync_member_groups(user, roles)
        audit.record("member.create", actor, target=user, country=user.country_id, roles=roles)
    return user


def _clean_contact(email, names: dict) -> dict:
    """E-mail and name changes, each checked and refused by name; None leaves a field be."""
    changes = {}
    if email is not None:
        email = email.strip()
        if email:
            try:
                validate_email(email)
            except ValidationError:
                raise MemberError("email: not a valid e-mail address") from None
        if len(email) > User._meta.get_field("email").max_length:
            raise MemberError("email: at most 254 characters")
        changes["email"] = email
    for field, value in names.items():
        if value is None:
            continue
        if not isinstance(value, str) or len(value.strip()) > 150:
            raise MemberError(f"{field}: text of at most 150 characters")
        changes[field] = value.strip()
    return changes


def member_update(
    *, member: User, actor, country_code, roles, oversight, is_active,
    email=None, first_name=None, last_name=None,
) -> User:
    """Change a member's country, roles, oversight, status, e-mail or name (the admin's path).

    Audited as `member.update` with the names of the changed contact fields (not their
    values) and, when it changed, `is_active`; disabling also ends sessions and tokens
    (`member.disable`).
    """
    roles = sorted(set(roles))
    country = validate_member(country_code=country_code, roles=roles, oversight=oversight)
    contact = _clean_contact(email, {"first_name": first_name, "last_name": last_name})
    with transaction.atomic():
        member = User.objects.select_for_update().get(pk=member.pk)
        changed = sorted(f for f, value in contact.items() if getattr(member, f) != value)
        for field in changed:
            setattr(member, field, contact[field])
        member.country, member.oversight = country, oversight
        member.save(update_fields=["country", "oversight", *changed])
        sync_member_groups(member, roles)
        details = {"country": member.country_id, "roles": roles, "oversight": oversight,
                   "fields": changed}
        if bool(is_active) != member.is_active:
            details["is_active"] = bool(is_active)
        audit.record("member.update", actor, target=member, **details)
        if member.is_active and not is_active:
            member_disable(member=member, actor=actor)
        elif is_active and not member.is_active:
            member.is_active = True
            member.save(update_fields=["is_active"])
    return member


def member_language_set(*, member: User, language: str) -> User:
    """Keep the language a signed-in member chose, for mails and tasks; audited when changed."""
    if language not in dict(settings.LANGUAGES):
        raise ValidationError({"language": [f"not a language of this site: {language[:16]!r}"]})
    with transaction.atomic():
        member = User.objects.select_for_update().get(pk=member.pk)
        if member.language == language:
            return member
        member.language = language
        member.save(update_fields=["language"])
        audit.record("member.update", member, target=member, fields=["language"],
                     language=language)
    return member


def member_disable(*, member: User, actor) -> None:
    """Disable a member: sign-in, every session and every token end at once."""
    from workinggroup.signin.services import end_sessions_and_tokens

    with transaction.atomic():
        member.is_active = False
        member.save(update_fields=["is_active"])
        # Sessions are found through their per-member records, not by decoding every session.
        ended, revoked = end_sessions_and_tokens(member)
        audit.record("member.disable", actor, target=member, tokens_revoked=revoked,
                     sessions_ended=ended)


def country_create(*, code, name_en, name_es, actor) -> Country:
    """Add a partner country and its members' group (no code change needed)."""
    try:
        code = clean_country_code(code, partner=False)
    except ValidationError as exc:
        raise MemberError("code: " + " ".join(exc.messages)) from None
    if Country.objects.filter(code=code).exists():
        raise MemberError(f"code: country {code} already exists")
    with transaction.atomic():
        group = Group.objects.create(name=Country.group_name_for(code))
        country = Country.objects.create(code=code, name_en=name_en, name_es=name_es, group=group)
        audit.record("country.create", actor, target=country, code=code)
    return country


def country_update(*, country: Country, name_en, name_es, actor) -> Country:
    """Rename a partner country (its code and group never change)."""
    with transaction.atomic():
        country = Country.objects.select_for_update().get(pk=country.pk)
        country.name_en, country.name_es = name_en, name_es
        country.save(update_fields=["name_en", "name_es"])
        audit.record("country.update", actor, target=country, name_en=name_en, name_es=name_es)
    return country


def token_issue(*, user: User, actor, hours=None, name="") -> tuple[ApiToken, str]:
    """Mint an API token; the raw key is returned once and only its hash is stored."""
    hours = settings.API_TOKEN_DEFAULT_HOURS if hours is None else hours
    if not isinstance(hours, int) or not 1 <= hours <= settings.API_TOKEN_MAX_HOURS:
        raise MemberError(f"hours: between 1 and {settings.API_TOKEN_MAX_HOURS}")
    if not user.is_active:
        raise MemberError(f"username: {user.username} is disabled")
    key = secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user,
            key_hash=hash_token(key),
            prefix=key[:8],
            name=name[:100],
            expires_at=timezone.now() + dt.timedelta(hours=hours),
        )
        audit.record("token.issue", actor, target=token, member=user.username, hours=hours)
    return token, key


def token_revoke(*, token: ApiToken, actor) -> ApiToken:
    """Revoke a token at once; revoking twice changes nothing."""
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().get(pk=token.pk)
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
            audit.record("token.revoke", actor, target=token, member=token.user.username)
    return token
