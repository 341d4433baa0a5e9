"""The working group itself: partner countries, their members, and members' API tokens."""

import datetime as dt
import hashlib
import uuid

from django.conf import settings
from django.contrib.auth.models import AbstractUser, Group
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """What a member may do; each role is a Group carrying model-level permissions."""

    INVESTIGATOR = "investigator", _("Investigator")
    LIAISON = "liaison", _("Liaison")
    AUDITOR = "auditor", _("Auditor")
    STATISTICS = "statistics", _("Statistics")

    @property
    def group_name(self) -> str:
        return f"role:{self.value}"


class Country(models.Model):
    """A partner of the working group (ISO 3166 alpha-2); its members share one Group."""

    code = models.CharField(_("code"), max_length=2, primary_key=True)
    name_en = models.CharField(_("name (English)"), max_length=100)
    name_es = models.CharField(_("name (Spanish)"), max_length=100)
    group = models.OneToOneField(Group, on_delete=models.PROTECT, related_name="country")

    class Meta:
        ordering = ["code"]
        verbose_name = _("country")
        verbose_name_plural = _("countries")

    def __str__(self):
        return self.code

    @staticmethod
    def group_name_for(code: str) -> str:
        return f"country:{code}"


def clean_country_code(value, *, partner: bool = True) -> str:
    """The one country-code check: two ASCII letters (ISO 3166 alpha-2), upper-cased.

    With `partner` (the default) it must also be a partner of the working group (a Country
    row); without, any well-formed code passes (a subject's nationality). Raises a
    ValidationError whose message never echoes more than a few characters of the input.
    """
    code = value.strip().upper() if isinstance(value, str) else ""
    shown = repr(value)[:12]
    if not (len(code) == 2 and code.isascii() and code.isalpha()):
        raise ValidationError(
            _("%(value)s is not a country code (ISO 3166 alpha-2, two letters)."),
            code="invalid", params={"value": shown},
        )
    if partner and not Country.objects.filter(code=code).exists():
        raise ValidationError(
            _("%(value)s is not a partner country code."), code="unknown",
            params={"value": shown},
        )
    return code


class User(AbstractUser):
    """A member of the working group: belongs to exactly one country, holds roles."""

    country = models.ForeignKey(
        Country, on_delete=models.PROTECT, null=True, blank=True, related_name="members"
    )
    oversight = models.BooleanField(
        _("trilateral oversight"),
        default=False,
        help_text=_("An auditor who sees every country's audit entries."),
    )

    class Meta:
        verbose_name = _("member")
        verbose_name_plural = _("members")

    @property
    def roles(self) -> list[str]:
        """The member's role names, from their role groups.

        Read once per instance (every gate asks, several times a request); a request loads
        its member afresh, and members.sync_member_groups forgets them when it changes them.
        """
        cached = self.__dict__.get("_role_names")
        if cached is None:
            prefix = "role:"
            names = [g.name for g in self.groups.all()]  # uses prefetch when present
            cached = tuple(sorted(n[len(prefix) :] for n in names if n.startswith(prefix)))
            self.__dict__["_role_names"] = cached
        return list(cached)

    def forget_roles(self) -> None:
        """Drop the roles read by `roles` (after the member's groups changed)."""
        self.__dict__.pop("_role_names", None)

    def refresh_from_db(self, *args, **kwargs):
        self.forget_roles()
        super().refresh_from_db(*args, **kwargs)

    def has_role(self, role: str) -> bool:
        return role in self.roles

    @property
    def is_investigator(self) -> bool:
        return self.has_role(Role.INVESTIGATOR)

    @property
    def is_liaison(self) -> bool:
        return self.has_role(Role.LIAISON)



def hash_token(key: str) -> str:
    """Tokens are 256-bit random strings, so an unsalted SHA-256 is a safe lookup hash."""
    return hashlib.sha256(key.encode()).hexdigest()


class ApiToken(models.Model):
    """An API token: only its hash is stored; it expires and can be revoked."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8, help_text=_("First characters, to tell tokens apart."))
    name = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")

    def __str__(self):
        return f"{self.prefix}… ({self.user.username})"

    def is_usable(self, at=None) -> bool:
        """Neither revoked, expired nor idle at the given moment."""
        at = at or timezone.now()
        return self.revoked_at is None and self.expires_at > at and not self.is_idle(at)

    def is_idle(self, at=None) -> bool:
        """Unused for longer than API_TOKEN_IDLE_MINUTES (counted from issue if never used)."""
        at = at or timezone.now()
        since = self.last_used_at or self.created_at
        return at - since > dt.timedelta(minutes=settings.API_TOKEN_IDLE_MINUTES)
