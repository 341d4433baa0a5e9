"""Cross-border shares of a case: a request, the owner liaison's decision, a time-boxed grant.

A ShareRequest is the only thing that ever opens a partner's view of a case. The guardian
rows it causes are derived data: the sharing services recompute them from the active
approved requests, and each partner row carries its expiry, which the case gate checks on
every read, so an expired share opens nothing even before the beat task tidies it away.

The hit/no-hit lookup's records live here too: `LookupHit` (what a partner learned, and the
cases behind its opaque hit_id) and `Lookup` (the rate-limit ledger where there is no Redis).
"""

import datetime as dt
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from cases.identifiers import IDENTIFIER_TYPES
from cases.models import Case, HandlingCode, Subject
from core.roles import holds_role_permission
from workinggroup.models import Country

MAX_SHARE_DAYS = 365
# What a new share lasts unless the person opening it chooses otherwise (forms offer it).
DEFAULT_SHARE_DAYS = 90


class ShareScope(models.TextChoices):
    """What a share opens; the permissions behind each are cases.permissions.SCOPES."""

    SUMMARY = "summary", _("Case header and summary")
    # Each label stands alone: it is read on its own as "Your access: ..." and in lists.
    FULL = "full", _("Header, summary, subjects, identifiers and notes")
    FULL_WITH_FILES = "full_with_files", _("Everything, with evidence file downloads")


# Scopes that show subjects: only these can name protected subjects.
SUBJECT_SCOPES = (ShareScope.FULL, ShareScope.FULL_WITH_FILES)


class ShareStatus(models.TextChoices):
    """pending -> awaiting_second_approval (a request that needs more than one approval, after
    each approval but the last) -> approved | denied; approved -> revoked | expired; a pending
    renewal whose grant was revoked -> cancelled. Nothing else."""

    PENDING = "pending", _("Pending")
    AWAITING_SECOND = "awaiting_second_approval", _("Awaiting a second approval")
    APPROVED = "approved", _("Approved")
    DENIED = "denied", _("Denied")
    REVOKED = "revoked", _("Revoked")
    EXPIRED = "expired", _("Expired")
    CANCELLED = "cancelled", pgettext_lazy("share request status", "Cancelled")


# Statuses of a request still to be decided (one denial, or the last approval, ends them).
UNDECIDED = (ShareStatus.PENDING, ShareStatus.AWAITING_SECOND)


class ShareOrigin(models.TextChoices):
    """Who started it: the owner offering, or a partner asking (by case id or lookup hit)."""

    OFFER = "offer", _("Offered by the owner country")
    REQUEST = "request", _("Asked for by the partner")
    HIT = "hit", _("Asked for by the partner after a lookup hit")


# Statuses a request only reaches after an approval: the recipient has seen the case.
WAS_APPROVED = (ShareStatus.APPROVED, ShareStatus.REVOKED, ShareStatus.EXPIRED)


class ShareRequest(models.Model):
    """One request to share one case with one partner country, and its whole history."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="share_requests")
    recipient_country = models.ForeignKey(Country, on_delete=models.PROTECT, related_name="+")
    scope = models.CharField(_("scope"), max_length=16, choices=ShareScope.choices)
    named_subjects = models.ManyToManyField(
        Subject, through="NamedSubject", related_name="+", blank=True
    )
    justification = models.TextField(_("justification"), max_length=2000)
    origin = models.CharField(max_length=8, choices=ShareOrigin.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    status = models.CharField(
        max_length=24, choices=ShareStatus.choices, default=ShareStatus.PENDING
    )
    # The approval policy in force when the request was opened, and the case's handling code
    # then: a later policy change never alters what this request needs (approvals_needed()).
    approvals_required = models.PositiveSmallIntegerField(default=1)
    handling_code_at_open = models.CharField(max_length=2, choices=HandlingCode.choices,
                                             default=HandlingCode.H0)
    # The approved grant this request renews (same case, recipient, scope and subjects).
    renews = models.ForeignKey("self", on_delete=models.CASCADE, null=True, blank=True,
                               related_name="renewals")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(max_length=2000, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+",
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    revocation_note = models.TextField(max_length=2000, blank=True)

    class Meta:
        ordering = ["-created_at"]
        permissions = [("decide_sharerequest", "Approve, deny and revoke shares (liaison)")]
        indexes = [
            # The read gate's EXISTS: case + country + approved + unexpired (+ scope, so the
            # probe is answered from the index alone).
            models.Index(
                fields=["case", "recipient_country", "status", "expires_at", "scope"],
                name="share_active_lookup",
            ),
            models.Index(fields=["status", "expires_at"], name="share_due_for_expiry"),
            models.Index(fields=["recipient_country", "-created_at"], name="share_by_recipient"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=ShareStatus.values), name="share_status_known"
            ),
            models.CheckConstraint(
                condition=models.Q(scope__in=ShareScope.values), name="share_scope_known"
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(status__in=UNDECIDED, decided_at__isnull=True)
                    | (~models.Q(status__in=UNDECIDED) & models.Q(decided_at__isnull=False))
                ),
                name="share_decided_unless_pending",
            ),
            models.CheckConstraint(
                condition=models.Q(approvals_required__gte=1), name="share_needs_an_approval"
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(status=ShareStatus.REVOKED, revoked_at__isnull=False)
                    | (~models.Q(status=ShareStatus.REVOKED) & models.Q(revoked_at__isnull=True))
                ),
                name="share_revoked_iff_revoked_at",
            ),
        ]

    def __str__(self):
        return f"share request {self.id}"

    def is_active(self, at=None) -> bool:
        """Approved and not yet past its expiry: the only state that opens the case."""
        at = at or timezone.now()
        return self.status == ShareStatus.APPROVED and self.expires_at > at

    def is_undecided(self) -> bool:
        """Pending, or awaiting a further approval: a liaison may still approve or deny it."""
        return self.status in UNDECIDED

    def approvals_needed(self) -> int:
        """How many distinct liaisons must approve: the policy recorded when it was opened,
        or, when the case's handling code was raised since, the policy for the new code if
        that asks more (the stricter applies; a lowered code never asks less)."""
        from sharing.policy import approvals_required, handling_rank

        needed = self.approvals_required
        current = self.case.handling_code
        if handling_rank(current) > handling_rank(self.handling_code_at_open):
            needed = max(needed, approvals_required(self.case.owner_country_id, current))
        return needed

    def approvals_given(self) -> int:
        """How many approvals it has (prefetched by the selectors)."""
        return len(self.approvals.all())

    def can_be_decided_by(self, user) -> bool:
        """A liaison of the owning country who did not ask for it approves or denies it."""
        return (
            user.is_active
            and user.country_id == self.case.owner_country_id
            and user.pk != self.requested_by_id
            and holds_role_permission(user, "sharing.decide_sharerequest")
        )

    def may_ask_renewal(self, user) -> bool:
        """Who asks to renew a share: an investigator of its owner or its recipient country."""
        return bool(
            user.is_active and user.is_investigator
            and user.country_id in (self.case.owner_country_id, self.recipient_country_id)
        )

    def can_be_renewed_by(self, user, at=None) -> bool:
        """Whether the user may ask to renew it now: one who asks renewals, of a share that
        is still active (the pages offer "Ask to renew" on this answer)."""
        return self.is_active(at) and self.may_ask_renewal(user)

    def can_be_revoked_by(self, user) -> bool:
        """Any liaison of the owning country may take a share back, at any time."""
        return (
            user.is_active
            and user.country_id == self.case.owner_country_id
            and holds_role_permission(user, "sharing.decide_sharerequest")
        )

    def discloses_case_to(self, user) -> bool:
        """Whether the user may learn which case this is (reference, handling code).

        The owner always. The recipient once the share was approved, when it asked for a
        case it already sees, or for a renewal (the share it renews was approved). Never
        before: an owner's offer has not crossed the border until the owner's liaisons
        approve it (one investigator offering an H2 case must not show its reference,
        title or code to the partner alone), and a lookup hit told the partner that a
        country holds something, not what.
        """
        country = getattr(user, "country_id", None)
        if country == self.case.owner_country_id:
            return True
        if country != self.recipient_country_id:
            return False
        return (self.origin == ShareOrigin.REQUEST or self.status in WAS_APPROVED
                or self.renews_id is not None)  # a renewal: its grant was approved

    @staticmethod
    def expiry_error(expires_at, at=None) -> str:
        """Why `expires_at` is not acceptable for a new request, or "" when it is (the one
        place the bounds live; the open service asks it)."""
        at = at or timezone.now()
        if expires_at <= at:
            return _("must be in the future")
        if expires_at > at + dt.timedelta(days=MAX_SHARE_DAYS):
            return _("must be at most %(days)d days ahead") % {"days": MAX_SHARE_DAYS}
        return ""


def undecided_requests(case) -> models.QuerySet:
    """A case's requests still awaiting a decision: at most one per recipient country
    (`steps.refuse_second_undecided`; the offer form marks those countries)."""
    return ShareRequest.objects.filter(case=case, status__in=UNDECIDED)


class ShareApproval(models.Model):
    """One liaison's approval of a request (who, when, why); a liaison approves once."""

    id = models.BigAutoField(primary_key=True)
    share_request = models.ForeignKey(ShareRequest, on_delete=models.CASCADE,
                                      related_name="approvals")
    liaison = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                related_name="+")
    approved_at = models.DateTimeField(default=timezone.now)
    note = models.TextField(max_length=2000, blank=True)

    class Meta:
        ordering = ["approved_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["share_request", "liaison"],
                                    name="one_approval_per_liaison"),
        ]

    def __str__(self):
        return f"approval of {self.share_request_id} by {self.liaison_id}"


MAX_APPROVALS = 5  # more liaisons than a country has would block every share


class SharePolicy(models.Model):
    """How many distinct liaisons of the owner country approve a share of a case with this
    handling code. No row: the default (sharing.policy.DEFAULT_APPROVALS)."""

    id = models.BigAutoField(primary_key=True)
    owner_country = models.ForeignKey(Country, on_delete=models.CASCADE, related_name="+")
    handling_code = models.CharField(_("handling code"), max_length=2,
                                     choices=HandlingCode.choices)
    approvals_required = models.PositiveSmallIntegerField(_("approvals required"))

    class Meta:
        verbose_name = _("approval policy")
        verbose_name_plural = _("approval policies")
        ordering = ["owner_country", "handling_code"]
        constraints = [
            models.UniqueConstraint(fields=["owner_country", "handling_code"],
                                    name="one_policy_per_country_and_code"),
            models.CheckConstraint(
                condition=models.Q(approvals_required__gte=1,
                                   approvals_required__lte=MAX_APPROVALS),
                name="policy_approvals_between_1_and_5",
            ),
            models.CheckConstraint(condition=models.Q(handling_code__in=HandlingCode.values),
                                   name="policy_handling_code_known"),
        ]

    def __str__(self):
        return f"{self.owner_country_id} {self.handling_code}: {self.approvals_required}"


class NamedSubject(models.Model):
    """A protected subject (victim, witness) a share names explicitly, so it may travel."""

    share_request = models.ForeignKey(ShareRequest, on_delete=models.CASCADE)
    subject = models.ForeignKey(Subject, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["share_request", "subject"], name="subject_named_once_per_share"
            )
        ]

    def __str__(self):
        return f"{self.subject_id} named in {self.share_request_id}"


# --- Hit/no-hit lookup ------------------------------------------------------------------

HIT_LIFETIME = dt.timedelta(hours=24)


class Lookup(models.Model):
    """One lookup in the database rate-limit ledger, used only where no Redis is configured.

    Who and when, nothing else (the audit log has the rest). With Redis the limit lives there
    and nothing is written here; without it, rows leave once they are out of the hour.
    """

    id = models.BigAutoField(primary_key=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     related_name="+")
    performed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["requested_by", "performed_at"])]

    def __str__(self):
        return f"lookup #{self.id}"


class LookupHit(models.Model):
    """What a partner learned: country X holds N matching cases. The id is the opaque hit_id.

    Bound to the member who asked, valid for 24 hours, usable once to open share requests;
    only the owner country's liaisons are told which cases matched. `notified_at` stays empty
    until they were: the unnotified rows are the notifications' outbox.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     related_name="+")
    owner_country = models.ForeignKey(Country, on_delete=models.PROTECT, related_name="+")
    identifier_type = models.CharField(max_length=16,
                                       choices=[(t, t) for t in IDENTIFIER_TYPES])
    # The matched cases' ids as text. Not a many-to-many: one multi-row INSERT writes every
    # hit of a lookup, and a deleted case simply no longer comes back (matched_cases()).
    case_ids = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["owner_country", "-created_at"]),
            models.Index(fields=["created_at"], condition=models.Q(notified_at__isnull=True),
                         name="lookuphit_to_notify"),
        ]

    def __str__(self):
        return f"hit {self.id}"

    def matched_cases(self):
        """The matched cases still held (no permission gate: callers decide who may know)."""
        return Case.objects.filter(pk__in=self.case_ids)

    def is_usable_by(self, user, at=None) -> bool:
        """Only the member who asked, once, before it expires."""
        at = at or timezone.now()
        return self.requested_by_id == user.pk and self.used_at is None and self.expires_at > at


class NotificationKind(models.TextChoices):
    """What a notification in the member's centre is about."""

    TO_DECIDE = "to_decide", _("A request to decide")
    DECIDED = "decided", _("A decision on your request")
    RECEIVED = "received", _("A partner shared a case with your country")
    REVOKED = "revoked", _("A share your country held was revoked")
    EXPIRING = "expiring", _("A share your country holds or gave ends within 7 days")
    HIT = "hit", _("A partner's lookup matched your cases")


class Notification(models.Model):
    """One line in a member's notification centre; it names a request or a hit, never case
    content (the pages show that, through their gates). Read when `read_at` is set."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                               related_name="+")
    kind = models.CharField(max_length=16, choices=NotificationKind.choices)
    share_request = models.ForeignKey(ShareRequest, on_delete=models.CASCADE, null=True,
                                      blank=True, related_name="+")
    hit = models.ForeignKey(LookupHit, on_delete=models.CASCADE, null=True, blank=True,
                            related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["member", "read_at", "-created_at"])]

    def __str__(self):
        return f"{self.kind} for {self.member_id}"
