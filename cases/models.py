"""Case records on trafficking and smuggling networks: cases, subjects, identifiers.

Access to a case is object permissions on Case, granted to country groups through the
direct-foreign-key guardian models below (never the generic ones), so that no grant outlives
its case and the permission query stays on indexed foreign keys.
"""

import os
import threading
import time
import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from cases.identifiers import IDENTIFIER_TYPES
from workinggroup.models import Country


class CaseType(models.TextChoices):
    TRAFFICKING = "trafficking", _("Human trafficking")
    SMUGGLING = "smuggling", _("Migrant smuggling")


class CaseStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class HandlingCode(models.TextChoices):
    """Europol-style handling codes: they travel with the case wherever it is shown."""

    H0 = "H0", _("H0: law-enforcement purposes only")
    H1 = "H1", _("H1: not for judicial proceedings without the owner's consent")
    H2 = "H2", _("H2: no onward dissemination without the owner's consent")
    H3 = "H3", _("H3: other restrictions (stated in the case)")


# H3 means "other restrictions, stated in the case": the statement is the handling note.
H3_STATES_ITS_RESTRICTION = ~models.Q(handling_code=HandlingCode.H3) | ~models.Q(handling_note="")


def handling_note_error(handling_code: str, handling_note: str):
    """Why a handling code and note do not go together, or None: the one H3 rule (the
    database constraint below holds the same rule for rows written any other way)."""
    if handling_code == HandlingCode.H3 and not (handling_note or "").strip():
        return _("required with handling code H3: state the restriction")
    return None


class SourceReliability(models.TextChoices):
    """The 4x4 evaluation: how reliable the source is."""

    A = "A", _("A: reliable")
    B = "B", _("B: mostly reliable")
    C = "C", _("C: not reliable")
    X = "X", _("X: cannot be judged")


class InformationAssessment(models.TextChoices):
    """The 4x4 evaluation: how far the information itself can be trusted."""

    KNOWN = "1", _("1: known to be true without reservation")
    KNOWN_TO_SOURCE = "2", _("2: known personally to the source")
    NOT_KNOWN = "3", _("3: not known personally to the source, corroborated")
    UNCONFIRMED = "4", _("4: cannot be judged")


class SubjectRole(models.TextChoices):
    ORGANISER = "organiser", _("Organiser")
    RECRUITER = "recruiter", _("Recruiter")
    TRANSPORTER = "transporter", _("Transporter")
    FACILITATOR = "facilitator", _("Facilitator")
    FINANCIER = "financier", _("Financier")
    VICTIM = "victim", _("Victim")
    WITNESS = "witness", _("Witness")
    OTHER = "other", _("Other")


def uuid7() -> uuid.UUID:
    """A time-ordered UUID (RFC 9562 version 7): 48 bits of Unix milliseconds, 74 random.

    Case ids sort by creation, so the grant index (group, permission, case) lists a country's
    cases newest first by itself and a list page is one range of it (docs/PERFORMANCE.md).
    """
    global _uuid7_last
    value = (time.time_ns() // 1_000_000) << 80 | int.from_bytes(os.urandom(10), "big")
    value = value & ~(0xF << 76) | 0x7 << 76  # version 7
    value = value & ~(0x3 << 62) | 0x2 << 62  # RFC 4122 variant
    with _uuid7_lock:  # monotonic within a process, even inside one millisecond
        if value <= _uuid7_last:
            value = _uuid7_last + 1
        _uuid7_last = value
    return uuid.UUID(int=value)


_uuid7_lock = threading.Lock()
_uuid7_last = 0


# Victims and witnesses never reach a partner unless a share names them explicitly.
PROTECTED_ROLES = frozenset({SubjectRole.VICTIM, SubjectRole.WITNESS})


class Case(models.Model):
    """A case record, owned by one country; only that country can edit or share it."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    reference = models.CharField(max_length=16, unique=True, editable=False)
    owner_country = models.ForeignKey(Country, on_delete=models.PROTECT, related_name="cases")
    year = models.PositiveSmallIntegerField(editable=False)
    number = models.PositiveIntegerField(editable=False)
    title = models.CharField(_("title"), max_length=200)
    summary = models.TextField(_("summary"), max_length=10000, blank=True)
    case_type = models.CharField(_("case type"), max_length=16, choices=CaseType.choices)
    status = models.CharField(
        _("status"), max_length=8, choices=CaseStatus.choices, default=CaseStatus.OPEN
    )
    handling_code = models.CharField(
        _("handling code"), max_length=2, choices=HandlingCode.choices, default=HandlingCode.H0
    )
    handling_note = models.CharField(_("handling restriction"), max_length=500, blank=True)
    source_reliability = models.CharField(
        max_length=1, choices=SourceReliability.choices, default=SourceReliability.X
    )
    information_assessment = models.CharField(
        max_length=1,
        choices=InformationAssessment.choices,
        default=InformationAssessment.UNCONFIRMED,
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        # Newest first: ids are time-ordered (uuid7), so the primary key index serves it.
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner_country", "year", "number"], name="case_reference_sequence"
            ),
            models.CheckConstraint(
                condition=H3_STATES_ITS_RESTRICTION, name="case_h3_states_its_restriction"
            ),
        ]
        indexes = [models.Index(fields=["owner_country", "-id"], name="case_country_recent")]
        permissions = [
            ("view_case_summary", "Read the case header and summary"),
            ("view_case_full", "Read subjects, identifiers and notes"),
            ("view_case_files", "Download evidence files"),
            ("share_case", "Share the case with a partner (owner country only)"),
        ]

    def __str__(self):
        return self.reference


class CaseCounter(models.Model):
    """The last reference number per owner country and year; locked while a case is created."""

    country = models.ForeignKey(Country, on_delete=models.PROTECT)
    year = models.PositiveSmallIntegerField()
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["country", "year"], name="one_counter_per_year")
        ]

    def __str__(self):
        return f"{self.country_id}-{self.year}: {self.last_number}"


class CaseUserObjectPermission(UserObjectPermissionBase):
    """Direct-FK user grants on a case: never granted and never read by the gate.

    It exists so that a stray guardian call stores its row here, dying with the case, rather
    than in guardian's generic table.
    """

    content_object = models.ForeignKey(Case, on_delete=models.CASCADE)


class CaseGroupObjectPermission(GroupObjectPermissionBase):
    """Direct-FK country-group grants on a case: the whole access model lives in this table.

    The gate's EXISTS probes and the list's count scan read (group, permission,
    content_object) with `expires_at` carried in the same index, so both stay index-only.
    """

    content_object = models.ForeignKey(Case, on_delete=models.CASCADE)
    # A partner's grant lasts as long as the shares behind it: the gate ignores a row past this
    # moment at once, before the expiry task deletes it. Owners' rows never expire (null).
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta(GroupObjectPermissionBase.Meta):
        indexes = [
            models.Index(
                fields=["group", "permission", "content_object"],
                include=["expires_at"],
                name="case_grant_gate",
            )
        ]


class Subject(models.Model):
    """A person in the network, with their role and the 4x4 evaluation."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="subjects")
    full_name = models.CharField(_("full name"), max_length=200)
    aliases = models.JSONField(_("aliases"), default=list, blank=True)
    date_of_birth = models.DateField(_("date of birth"), null=True, blank=True)
    nationality = models.CharField(_("nationality"), max_length=2, blank=True)
    role = models.CharField(_("role"), max_length=16, choices=SubjectRole.choices)
    source_reliability = models.CharField(
        max_length=1, choices=SourceReliability.choices, default=SourceReliability.X
    )
    information_assessment = models.CharField(
        max_length=1,
        choices=InformationAssessment.choices,
        default=InformationAssessment.UNCONFIRMED,
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self):
        return f"subject {self.id}"

    @property
    def is_protected(self) -> bool:
        return self.role in PROTECTED_ROLES


class SubjectGrant(models.Model):
    """A protected subject (victim, witness) a partner country may see, and until when.

    Written only by cases.permissions (like every case grant), kept in step by the sharing
    services from the active shares that name the subject; the subject gate reads it.
    """

    subject = models.ForeignKey(Subject, on_delete=models.CASCADE, related_name="grants")
    country = models.ForeignKey(Country, on_delete=models.CASCADE, related_name="+")
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["subject", "country"], name="subject_grant_once")
        ]

    def __str__(self):
        return f"{self.subject_id} to {self.country_id}"


class Identifier(models.Model):
    """An identifier of a subject: as entered, normalised, and as a keyed blind index.

    The blind index (HMAC-SHA256 under the working group's lookup key) is what the hit/no-hit
    lookup compares; `case` is copied from the subject so a lookup is one indexed query.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    subject = models.ForeignKey(Subject, on_delete=models.CASCADE, related_name="identifiers")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+")
    identifier_type = models.CharField(
        max_length=16, choices=[(t, t.replace("_", " ")) for t in IDENTIFIER_TYPES]
    )
    value = models.CharField(max_length=256)
    normalised = models.CharField(max_length=256)
    blind_index = models.CharField(max_length=64)
    lookup_key_id = models.CharField(max_length=64)

    class Meta:
        ordering = ["identifier_type", "normalised"]
        indexes = [models.Index(fields=["blind_index"])]
        constraints = [
            models.UniqueConstraint(
                fields=["subject", "identifier_type", "normalised"],
                name="identifier_once_per_subject",
            )
        ]

    def __str__(self):
        return f"{self.identifier_type} identifier"


class Attachment(models.Model):
    """An evidence file of a case: metadata here, only ciphertext (WGXA v1) in storage.

    `key_id` and `wrapped_key` copy the object's header, so the database alone says which
    key-encryption key each file needs (rotation and retirement read it) and a download can
    refuse an object whose header is not the one this row was written with. Attachments are
    immutable: a new upload is a new row with a new id.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # PROTECT: evidence never disappears as a side effect of deleting its case.
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="attachments")
    filename = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size in bytes"))
    sha256 = models.CharField(_("SHA-256 of the plaintext"), max_length=64)
    storage_name = models.CharField(max_length=255, unique=True)
    key_id = models.CharField(max_length=32)
    wrapped_key = models.BinaryField(max_length=40)
    format_version = models.PositiveSmallIntegerField(default=1)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at", "id"]
        indexes = [
            models.Index(fields=["case", "uploaded_at"]),
            # Rotation asks "which files are not yet under the primary key" per key id.
            models.Index(fields=["key_id"]),
        ]

    def __str__(self):
        return f"attachment {self.id}"
