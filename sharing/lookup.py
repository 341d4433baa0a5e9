"""Hit/no-hit lookup: which partner holds an identifier, and nothing else.

A lookup normalises the value exactly as stored identifiers are normalised, computes its keyed
blind index under every lookup key in the keyring (two only while a rotation runs), and
answers per owning country only how many matching cases it holds, with an opaque hit_id to
ask for them. Cases the caller can already read in full come back as they are.
"""

import contextlib
import functools
from collections import defaultdict

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

import audit
from audit.actions import Outcome
from cases.identifiers import InvalidIdentifier, blind_index, normalise
from cases.models import Case, Identifier
from cases.permissions import FULL
from cases.selectors import case_is_visible, visible_cases
from core.keyring import get_keyring
from sharing import lookup_limit
from sharing.lookup_limit import LimiterUnavailable, RateLimited
from sharing.models import HIT_LIFETIME, LookupHit
from workinggroup.models import User


def blind_indexes(identifier_type: str, normalised: str) -> list[str]:
    """The value's blind index under each lookup key, primary first."""
    ring = get_keyring()
    primary_id, primary = ring.primary_lookup_key()
    keys = [primary] + [ring.lookup_key(k) for k in ring.lookup_key_ids() if k != primary_id]
    return [blind_index(key, identifier_type, normalised) for key in keys]


@functools.cache
def _match_sql(n_indexes: int) -> str:
    """Ids of the cases holding the identifier: one probe of the blind index, nothing joined.

    Fixed SQL rather than a queryset: every lookup runs it, and building it through the ORM
    cost more than running it. It runs inside audit.record_unless_found, so a miss and its
    audit event are one statement; the permission gate is asked afterwards, through
    case_is_visible, for the matched cases only.
    """
    table = connection.ops.quote_name(Identifier._meta.db_table)
    placeholders = ", ".join(["%s"] * n_indexes)
    return (
        f"SELECT case_id FROM {table}"  # noqa: S608 (a table name and placeholders)
        f" WHERE blind_index IN ({placeholders}) AND identifier_type = %s"
    )


def _matched_cases(user: User, case_ids: set) -> list[Case]:
    """The matched cases, each with `readable`: may the caller read it in full?"""
    return list(Case.objects.filter(pk__in=case_ids)
                .annotate(readable=case_is_visible(user, FULL)))


_HIT_FIELDS = ("id", "requested_by", "owner_country", "identifier_type", "case_ids",
               "created_at", "expires_at")


@functools.cache
def _hit_insert_sql(n_rows: int) -> str:
    fields = [LookupHit._meta.get_field(name) for name in _HIT_FIELDS]
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    table = connection.ops.quote_name(LookupHit._meta.db_table)
    return f"INSERT INTO {table} ({columns}) VALUES {', '.join([row] * n_rows)}"  # noqa: S608


def _insert_hits(hits: list[LookupHit]) -> None:
    """Every hit of a lookup in one fixed INSERT (bulk_create compiles one per call, which cost
    more than the statement); each value goes through its field, as a save would."""
    fields = [LookupHit._meta.get_field(name) for name in _HIT_FIELDS]
    values = [field.get_db_prep_save(getattr(hit, field.attname), connection)
              for hit in hits for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(_hit_insert_sql(len(hits)), values)


def lookup_identifier(*, user: User, identifier_type: str, value: str) -> dict:
    """Search every country's holdings for one identifier; audited, rate-limited.

    Returns {"hits": [{"country", "cases", "hit_id"}], "own": [Case, ...]}. Raises
    ValidationError (naming `value`) for a value that cannot be normalised, RateLimited past
    the limit, LimiterUnavailable when the rate limit cannot be counted, PermissionDenied
    for anyone but an investigator (here, so the API, pages and tasks all share the rule).
    """
    if not user.is_investigator:
        raise PermissionDenied(_("Only investigators look up identifiers."))
    try:
        normalised = normalise(identifier_type, value, default_region=user.country_id)
    except InvalidIdentifier as exc:
        raise ValidationError({"value": [exc.translated(gettext)]}) from None
    now = timezone.now()
    try:
        # Redis counts the lookup while the indexes and the miss's audit event are built:
        # the count must be known before the match, because a miss commits its event in the
        # same statement as the match (below), and a refused lookup records only the refusal.
        with lookup_limit.counting(user, now):
            indexes = blind_indexes(identifier_type, normalised)
            miss_event = audit.outbox_rows(
                "lookup.search", user, identifier_type=identifier_type, blind_index=indexes[0],
                own_matches=0, partner_countries=0, partner_cases=0, hit_ids=[],
            )
    except RateLimited:
        audit.record("lookup.rate_limited", user, outcome=Outcome.DENIED,
                     identifier_type=identifier_type, limit=settings.LOOKUP_RATE_LIMIT_PER_HOUR)
        raise
    except LimiterUnavailable as exc:
        audit.record("lookup.unavailable", user, outcome=Outcome.FAILURE,
                     identifier_type=identifier_type, reason=f"rate limiter: {exc.cause}"[:200])
        raise

    # One statement: the match and, only when nothing matched, the miss's outbox row. Outside
    # a transaction it commits durably before the answer, in the one round trip.
    found = audit.record_unless_found(_match_sql(len(indexes)), [*indexes, identifier_type],
                                      miss_event)
    if not found:
        return {"hits": [], "own": []}
    to_python = Case._meta.pk.to_python
    case_ids = {to_python(case_id) for (case_id,) in found}

    # Readability is asked of the one gate, and only when something matched. A case shared
    # at summary scope only still counts as a partner's hit.
    matched = _matched_cases(user, case_ids)
    own = [case for case in matched if case.readable]
    by_country = defaultdict(list)
    for case in matched:
        if not case.readable:
            by_country[case.owner_country_id].append(str(case.pk))
    hits = [
        LookupHit(requested_by=user, owner_country_id=country, identifier_type=identifier_type,
                  case_ids=sorted(by_country[country]), created_at=now,
                  expires_at=now + HIT_LIFETIME)
        for country in sorted(by_country)
    ]
    # The event commits before the answer. Without hits (own cases only) it is the only
    # write, and autocommit makes it atomic; with hits, the hit rows and the event commit
    # together.
    with transaction.atomic() if hits else contextlib.nullcontext():
        if hits:
            _insert_hits(hits)
            transaction.on_commit(_notify_owners, robust=True)
        audit.record(
            "lookup.search", user, identifier_type=identifier_type, blind_index=indexes[0],
            own_matches=len(own), partner_countries=len(hits),
            partner_cases=sum(len(hit.case_ids) for hit in hits),
            hit_ids=[str(hit.id) for hit in hits],
        )
    return {
        "hits": [{"country": hit.owner_country_id, "cases": len(hit.case_ids), "hit_id": hit.id}
                 for hit in hits],
        "own": own,
    }


def _notify_owners():
    """Without a worker (development box, eager tasks) the owners are told now.

    With one, beat's sweep (sharing.notify_lookup_hits) tells them within seconds: a hit row
    with no notified_at is its own outbox, and the request never waits on the broker.
    """
    from sharing.tasks import notify_lookup_hits

    if not settings.BROKER_CONFIGURED or notify_lookup_hits.app.conf.task_always_eager:
        notify_lookup_hits.delay()


def lookup_hit_claim(*, user: User, hit_id) -> LookupHit:
    """Spend a hit to ask for its cases: only its member, once, within 24 hours; else 404.

    Call inside the transaction that opens the share requests, so a failed request leaves
    the hit unspent.
    """
    assert transaction.get_connection().in_atomic_block, "claim a hit inside a transaction"
    hit = LookupHit.objects.select_for_update().filter(pk=hit_id).first()
    if hit is None or not hit.is_usable_by(user):
        raise Http404(_("No such lookup hit."))
    hit.used_at = timezone.now()
    hit.save(update_fields=["used_at"])
    return hit


def hits_on_country_cases(user: User, limit: int = 100) -> list[LookupHit]:
    """For an owner country's liaisons: recent partner hits on their cases (who, which cases).

    Newest first, each with `named_cases`: [(case id, reference)] read through the gate, so
    only cases the liaison's country still holds are named. Liaisons only (PermissionDenied).
    Recorded as `lookup.hits_list`.
    """
    if not user.is_liaison:
        raise PermissionDenied(_("Only liaisons see partners' hits on their cases."))
    hits = list(LookupHit.objects.filter(owner_country_id=user.country_id)
                .select_related("requested_by")[:limit])
    wanted = {case_id for hit in hits for case_id in hit.case_ids}
    references = {
        str(pk): reference
        for pk, reference in visible_cases(user).filter(pk__in=wanted)
        .values_list("pk", "reference")
    } if wanted else {}
    for hit in hits:
        hit.named_cases = sorted(
            ((pk, references[pk]) for pk in hit.case_ids if pk in references),
            key=lambda case: case[1],
        )
    audit.record("lookup.hits_list", user, count=len(hits))
    return hits


def rotate_index(identifier: Identifier, key_id: str, key: bytes) -> None:
    """Recompute one stored identifier's blind index under another lookup key."""
    identifier.blind_index = blind_index(key, identifier.identifier_type, identifier.normalised)
    identifier.lookup_key_id = key_id


def matched_case_references(hit: LookupHit) -> list[str]:
    """The references of a hit's cases, for their owner's liaisons only."""
    return sorted(hit.matched_cases().values_list("reference", flat=True))
