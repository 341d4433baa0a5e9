"""What several pages share: a case as a page reads it, the countries, the case search.

`case_search` is the pages' bridge to the case listing until the domain layer's listing
selector (issue 12) replaces it; it only narrows `visible_cases`, never widens it.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.utils.translation import gettext as _

import audit
from cases import permissions, selectors
from cases.models import Case, Subject
from cases.permissions import SUMMARY
from workinggroup.models import Country


def require_case_reader(user) -> None:
    """Auditors and administrators never read case content (403, as in the API)."""
    if not permissions.can_read_cases(user):
        raise PermissionDenied(_("Your role does not read case content."))


def case_for_page(user, case_id) -> tuple[Case, str]:
    """The case through the gate (404 unseen), and the member's standing on it, audited."""
    require_case_reader(user)
    case = selectors.get_case_for(user, case_id, SUMMARY)
    if selectors.is_owner(user, case):
        access = "owner"
    else:
        access = permissions.scope_held(permissions.perms_of(user, case)) or SUMMARY
    audit.record("case.view", user, target=case, access=access)
    return case, access


def case_search(user, *, q="", **filters):
    """(cases, count): the visible cases matching the filters, newest first; audited."""
    require_case_reader(user)
    cases = selectors.visible_cases(user, SUMMARY).select_related("owner_country")
    exact = {name: value for name, value in filters.items()
             if name in ("status", "case_type", "owner_country", "handling_code")}
    if "owner_country" in exact:
        exact["owner_country_id"] = exact.pop("owner_country")
    cases = cases.filter(**exact)
    q = (q or "").strip()
    if q:
        # Subjects' names and aliases: only of the member's own country's cases here, where
        # every subject is theirs to see (partners' subjects wait for the domain's search).
        own_subjects = Subject.objects.filter(
            case__owner_country_id=user.country_id
        ).filter(Q(full_name__icontains=q) | Q(aliases__icontains=q)).values("case_id")
        cases = cases.filter(Q(title__icontains=q) | Q(summary__icontains=q)
                             | Q(reference__icontains=q) | Q(pk__in=own_subjects))
    count = cases.count()
    audit.record("case.search", user, filters={"q": q, **filters} if q else filters,
                 count=count)
    return cases.order_by("-id"), count


def countries():
    return list(Country.objects.order_by("code"))


def partner_countries(case: Case):
    """The countries a case can be offered to: every one but its owner."""
    return [c for c in countries() if c.code != case.owner_country_id]
