"""Cross-border sharing: the hit/no-hit lookup's records (share requests join them)."""

import datetime as dt
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from cases.identifiers import IDENTIFIER_TYPES
from cases.models import Case
from workinggroup.models import Country

HIT_LIFETIME = dt.timedelta(hours=24)


class Lookup(models.Model):
    """One hit/no-hit lookup: who asked and when (the rate limit counts these; no value kept)."""

    id = models.BigAutoField(primary_key=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     related_name="+")
    requester_country = models.ForeignKey(Country, on_delete=models.PROTECT, related_name="+")
    identifier_type = models.CharField(max_length=16,
                                       choices=[(t, t) for t in IDENTIFIER_TYPES])
    partner_hits = models.PositiveIntegerField(default=0)
    performed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["requested_by", "performed_at"])]

    def __str__(self):
        return f"lookup #{self.id}"


class LookupHit(models.Model):
    """What a partner learned: country X holds N matching cases. The id is the opaque hit_id.

    Bound to the member who asked, valid for 24 hours, usable once to open share requests;
    only the owner country's liaisons are told which cases matched.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    lookup = models.ForeignKey(Lookup, on_delete=models.PROTECT, related_name="hits")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     related_name="+")
    owner_country = models.ForeignKey(Country, on_delete=models.PROTECT, related_name="+")
    cases = models.ManyToManyField(Case, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["owner_country", "-created_at"])]

    def __str__(self):
        return f"hit {self.id}"

    def is_usable_by(self, user, at=None) -> bool:
        """Only the member who asked, once, before it expires."""
        at = at or timezone.now()
        return self.requested_by_id == user.pk and self.used_at is None and self.expires_at > at
