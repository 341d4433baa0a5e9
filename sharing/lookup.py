"""Hit/no-hit lookup: which partner holds an identifier, and nothing else.

A lookup normalises the value exactly as stored identifiers are normalised, computes its keyed
blind index under every lookup key in the keyring (two only while a rotation runs), and
answers per owning country only how many matching cases it holds, with an opaque hit_id to
ask for them. Cases the caller can already read in full come back as they are.
"""

import datetime as dt
import math
from collections import defaultdict

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Exists, Min, OuterRef
from django.utils import timezone
from rest_framework.exceptions import NotFound

import audit
from audit.actions import Outcome
from cases.identifiers import blind_index, normalise
from cases.models import Case, Identifier
from cases.selectors import visible_cases
from sharing.models import HIT_LIFETIME, Lookup, LookupHit
from workinggroup.keyring import get_keyring
from workinggroup.models import User

RATE_WINDOW_SECONDS = 3600


class RateLimited(Exception):
    """Too many lookups in the last hour; `retry_after` is whole seconds until the next one."""

    def __init__(self, retry_after: int):
        super().__init__(f"retry after {retry_after}s")
        self.retry_after = retry_after


def blind_indexes(identifier_type: str, normalised: str) -> list[str]:
    """The value's blind index under each lookup key, primary first."""
    ring = get_keyring()
    primary_id, primary = ring.primary_lookup_key()
    keys = [primary] + [ring.lookup_key(k) for k in ring.lookup_key_ids() if k != primary_id]
    return [blind_index(key, identifier_type, normalised) for key in keys]


def _enforce_rate_limit(user: User, now) -> None:
    """At most LOOKUP_RATE_LIMIT_PER_HOUR lookups in any sliding hour, per member."""
    # Lock the member's row so concurrent lookups by one member count one after the other.
    User.objects.select_for_update().filter(pk=user.pk).values_list("pk").first()
    since = now - dt.timedelta(seconds=RATE_WINDOW_SECONDS)
    window = Lookup.objects.filter(requested_by=user, performed_at__gt=since).aggregate(
        n=Count("id"), first=Min("performed_at")
    )
    if window["n"] >= settings.LOOKUP_RATE_LIMIT_PER_HOUR:
        wait = (window["first"] - since).total_seconds()
        raise RateLimited(max(1, math.ceil(wait)))


def lookup_identifier(*, user: User, identifier_type: str, value: str) -> dict:
    """Search every country's holdings for one identifier; audited, rate-limited.

    Returns {"hits": [{"country", "cases", "hit_id"}], "own": [Case, ...]}. Raises
    InvalidIdentifier for a value that cannot be normalised and RateLimited past the limit.
    """
    normalised = normalise(identifier_type, value, default_region=user.country_id)
    indexes = blind_indexes(identifier_type, normalised)
    now = timezone.now()
    try:
        with transaction.atomic():
            _enforce_rate_limit(user, now)
            # One query: every matching case, its owner, and whether the caller reads it in full.
            readable = visible_cases(user, "full").filter(id=OuterRef("case_id"))
            matches = set(
                Identifier.objects.filter(identifier_type=identifier_type,
                                          blind_index__in=indexes)
                .annotate(readable=Exists(readable))
                .values_list("case_id", "case__owner_country_id", "readable")
            )
            own_ids = {case_id for case_id, _, readable in matches if readable}
            own = list(Case.objects.filter(id__in=own_ids)) if own_ids else []
            by_country = defaultdict(set)
            for case_id, country, readable in matches:
                if not readable:
                    by_country[country].add(case_id)
            lookup = Lookup.objects.create(
                requested_by=user, requester_country_id=user.country_id,
                identifier_type=identifier_type, partner_hits=len(by_country), performed_at=now,
            )
            hits = []
            for country in sorted(by_country):
                hit = LookupHit.objects.create(
                    lookup=lookup, requested_by=user, owner_country_id=country,
                    created_at=now, expires_at=now + HIT_LIFETIME,
                )
                hit.cases.set(by_country[country])
                hits.append({"country": country, "cases": len(by_country[country]),
                             "hit_id": hit.id})
                transaction.on_commit(_notify(hit.id), robust=True)
            audit.record(
                "lookup.search", user, target=lookup, identifier_type=identifier_type,
                blind_index=indexes[0], own_matches=len(own),
                partner_countries=len(hits), partner_cases=sum(h["cases"] for h in hits),
            )
    except RateLimited:
        audit.record("lookup.rate_limited", user, outcome=Outcome.DENIED,
                     identifier_type=identifier_type, limit=settings.LOOKUP_RATE_LIMIT_PER_HOUR)
        raise
    return {"hits": hits, "own": own}


def _notify(hit_id):
    def send():
        from sharing.tasks import notify_lookup_hit

        notify_lookup_hit.delay(str(hit_id))

    return send


def lookup_hit_claim(*, user: User, hit_id) -> LookupHit:
    """Spend a hit to ask for its cases: only its member, once, within 24 hours; else 404.

    Call inside the transaction that opens the share requests, so a failed request leaves
    the hit unspent.
    """
    assert transaction.get_connection().in_atomic_block, "claim a hit inside a transaction"
    hit = LookupHit.objects.select_for_update().filter(pk=hit_id).first()
    if hit is None or not hit.is_usable_by(user):
        raise NotFound("No such lookup hit.")
    hit.used_at = timezone.now()
    hit.save(update_fields=["used_at"])
    return hit


def hits_on_country_cases(user: User):
    """For an owner country's liaisons: recent partner hits on their cases (who, which cases)."""
    return (
        LookupHit.objects.filter(owner_country_id=user.country_id)
        .select_related("requested_by", "lookup")
        .prefetch_related("cases")
    )


def rotate_index(identifier: Identifier, key_id: str, key: bytes) -> None:
    """Recompute one stored identifier's blind index under another lookup key."""
    identifier.blind_index = blind_index(key, identifier.identifier_type, identifier.normalised)
    identifier.lookup_key_id = key_id


def matched_case_references(hit: LookupHit) -> list[str]:
    return sorted(Case.objects.filter(id__in=hit.cases.values("id"))
                  .values_list("reference", flat=True))
