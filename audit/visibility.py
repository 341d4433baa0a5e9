"""Who may read an entry: the countries whose auditors read it, decided when it is recorded.

An entry names its actor's country and, for an event about a case, the case and its owner
country. Both are in the hashed body, so they cannot be hidden per reader afterwards: an
event that names a case its actor's country cannot see (a partner asking for a case behind a
lookup hit, a refused decision on a partner's request) would show that case's id and owner to
the actor's country's auditors. So each entry carries, in its hashed body, `readers`: the
country codes whose auditors may read it (oversight auditors read everything). Such an event
is recorded twice, chained one after the other:

- the full entry, readable by the case's owner country;
- a copy without the case (no case id or country, no case object as its target, the URL
  pattern instead of the path, only the details that belong to the request rather than to
  the case), readable by the actor's country.

Whether a country can see a case is the cases app's question; `audit` sits below `cases` and
must not import it. The cases app registers the question at start-up (`register`, called
from `CasesConfig.ready`). Registration, not an argument every caller passes: a caller that
forgot it would leak silently, while a record naming a case asks the registered question
every time. Without a registered question (the audit app used alone) every such case counts
as unseen: the event is split, never leaked.
"""

from collections.abc import Callable

# The details a copy for the actor's country keeps: what the actor sent or was answered,
# never something read from the case. Everything else is left out of that copy.
REQUEST_DETAILS = frozenset({"recipient_country", "scope", "origin", "expires_at", "method",
                             "status", "path"})
WITHHELD_MARK = "case_withheld"  # in the copy's details: true

# The actions whose entries name readers of their own beyond the actor's country: a joint
# plan's steps are read by every participating country's auditors, a security gap's by the
# countries it names (plans/services.py). `entries_visible_to` looks these up by action.
WIDE_READER_ACTIONS = frozenset({
    "plan.create", "plan.invite", "plan.join", "plan.decline", "plan.activate",
    "plan.update", "plan.close", "task.assign", "task.update",
    "gap.create", "gap.update", "gap.evidence_upload", "gap.evidence_download",
    "gap.evidence_rewrap",
    # A country's approval policy is read by its own auditors (sharing/policy.py).
    "share.policy_update",
})

_question: list[Callable[[object, str], bool]] = []


def register(question: Callable[[object, str], bool]) -> None:
    """Set the question `question(case, country_code) -> bool`: can that country see it?"""
    _question[:] = [question]


def country_sees_case(case, country: str) -> bool:
    """The registered answer; False (split, never leak) when nothing is registered."""
    return bool(_question) and bool(_question[0](case, country))


def encode(readers) -> str:
    """The readers column: sorted country codes joined by commas ("" for oversight only)."""
    return ",".join(sorted(set(readers)))


def decode(column: str | None) -> list[str] | None:
    """The readers as the hashed body lists them; None for an entry chained before readers."""
    if column is None:
        return None
    return column.split(",") if column else []


def split(event: dict, case, route: str | None, readers=None) -> list[dict]:
    """The entries to record for one event (a dict of outbox fields, `readers` not yet set).

    One entry, readable by the actor's and the case's countries, unless the event names a
    case the actor's country cannot see; then the full entry for the owner and a copy without
    the case for the actor's country. Explicit `readers` (see `widened`) replace the first.
    """
    if readers is not None:
        event["readers"] = widened(event, readers)
        return [event]
    actor_country, owner = event["actor_country"], event["case_country"]
    if not event["case_id"] or not actor_country or actor_country == owner or (
        country_sees_case(case, actor_country)
    ):
        event["readers"] = encode({actor_country, owner} - {""})
        return [event]
    full = {**event, "readers": encode({owner})}
    copy = {**event, "case_id": "", "case_country": "", "readers": encode({actor_country})}
    if copy["target_type"].startswith("cases."):  # the case itself, its subject or file
        copy["target_type"], copy["target_id"] = "", ""
    elif copy["target_type"] == "request":  # a path naming the case: its pattern instead
        copy["target_id"] = (route or "")[:64]
    details = {k: v for k, v in event["details"].items() if k in REQUEST_DETAILS}
    if "path" in details:
        details["path"] = route or ""
    details[WITHHELD_MARK] = True
    copy["details"] = details
    return [full, copy]


def widened(event: dict, readers) -> str:
    """The readers column for an event with explicit readers; refused where it could leak.

    Only the actions listed in WIDE_READER_ACTIONS, never an event naming a case (its readers
    are the case gate's question, above), and always including the actor's own country.
    """
    if event["action"] not in WIDE_READER_ACTIONS:
        raise ValueError(f"{event['action']!r} does not name its own readers")
    if event["case_id"]:
        raise ValueError("an event naming a case cannot name its own readers")
    codes = {str(code) for code in readers} | ({event["actor_country"]} - {""})
    return encode(codes)
