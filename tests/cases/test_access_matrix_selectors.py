"""The access matrix over the selectors themselves: for every object kind, every role in
every country (and the administrator), every owner and share scope, the selector a page
would call returns exactly what the API answers, and auditors and administrators get nothing
of case content from any of them (403, or an empty gate).
"""

import uuid

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone

from cases import attachments, listing, permissions, selectors
from cases.models import Attachment, Case
from sharing import lookup
from sharing import selectors as sharing_selectors
from sharing import services as sharing_services
from sharing.models import HIT_LIFETIME, LookupHit
from tests.cases.test_access_matrix import PEOPLE, refused_by_role
from workinggroup.models import Country


@pytest.fixture(autouse=True)
def _in_a_test_transaction(db):
    """Each test in its own savepoint inside the module's world (and, for pytest-django's
    ordering, among the database tests: before any transactional test flushes the rows)."""


@pytest.fixture(scope="module")
def world(module_world, django_db_blocker):
    """module_world plus a full_with_files share, a file on every case, share requests of
    every origin (a pending lookup-hit request among them) and a partner's lookup hit."""
    with django_db_blocker.unblock():
        w = module_world
        us, mx, gt = (w.people[f"{c}_investigator"] for c in ("us", "mx", "gt"))
        w.cases["US>MX+"] = files = Case.objects.create(
            reference="US-2026-900001", owner_country_id="US", year=2026, number=900001,
            title="files for MX", case_type="smuggling", created_by=us)
        permissions.grant_owner(files)
        permissions.set_country_grants(files, "MX", permissions.SCOPES["full_with_files"])
        for name, case in w.cases.items():
            Attachment.objects.create(
                case=case, filename=f"{name}.pdf", content_type="application/pdf", size=1,
                sha256="0" * 64, storage_name=f"matrix/{uuid.uuid4()}", key_id="k",
                wrapped_key=b"x" * 40, uploaded_by=us)
        later = timezone.now() + timezone.timedelta(days=30)
        country = {code: Country.objects.get(code=code) for code in ("US", "GT", "MX")}
        w.requests = [
            sharing_services.share_request_open(  # an offer, pending
                requester=us, case=w.cases["US"], recipient_country=country["MX"],
                scope="full", justification="offer", expires_at=later),
            sharing_services.share_request_open(  # a partner asking for a case it sees
                requester=gt, case=w.cases["US>GT"], recipient_country=None,
                scope="full_with_files", justification="ask", expires_at=later),
            # After a lookup hit: case withheld from MX. Not case US, whose offer to MX is
            # pending: one pending request per case and recipient.
            sharing_services.share_request_open(
                requester=mx, case=w.cases["US>GT"], recipient_country=None, scope="summary",
                justification="hit", expires_at=later, from_hit=True),
            sharing_services.share_request_open(
                requester=mx, case=w.cases["MX"], recipient_country=country["GT"],
                scope="summary", justification="offer", expires_at=later),
        ]
        now = timezone.now()
        LookupHit.objects.create(requested_by=mx, owner_country_id="US",
                                 identifier_type="passport", case_ids=[str(w.cases["US"].pk)],
                                 created_at=now, expires_at=now + HIT_LIFETIME)
        yield w


def through_selector(call):
    try:
        return ("ok", call())
    except PermissionDenied:
        return (403,)
    except Http404:
        return (404,)


def through_api(response, shape):
    if response.status_code == 200:
        return ("ok", shape(response.json()))
    assert response.status_code in (403, 404), response.content
    return (response.status_code,)


def ids(rows):
    return sorted(str(getattr(row, "pk", None) or row["id"]) for row in rows)


def shares(rows):
    """(id, whether the case fields were withheld) per request."""
    out = []
    for row in rows:
        if isinstance(row, dict):
            out.append((row["id"], row["case"] is None))
        else:
            out.append((str(row.pk), bool(row.withheld)))
    return sorted(out)


KINDS = {
    "case": (
        lambda user, case: (lambda: (lambda c: (str(c.pk), c.access))(
            selectors.case_detail(user, case))),
        "/api/v1/cases/{}/", lambda body: (body["id"], body["access"])),
    "subjects": (
        lambda user, case: (lambda: ids(selectors.subject_list(user, case).items)),
        "/api/v1/cases/{}/subjects/", lambda body: ids(body["results"])),
    "attachments": (
        lambda user, case: (lambda: ids(attachments.attachment_list(user, case).items)),
        "/api/v1/cases/{}/attachments/", lambda body: ids(body["results"])),
    "holders": (
        lambda user, case: (lambda: shares(sharing_selectors.case_share_list(user, case))),
        "/api/v1/cases/{}/shares/", lambda body: shares(body["results"])),
}


@pytest.mark.parametrize("person", PEOPLE)
@pytest.mark.parametrize("kind", list(KINDS))
def test_each_case_selector_returns_exactly_what_the_api_returns(world, api, person, kind):
    user = world.people[person]
    client = api(user)
    selector, path, shape = KINDS[kind]
    for name, case in [*world.cases.items(), ("missing", None), ("malformed", None)]:
        case_id = {"missing": str(uuid.uuid4()), "malformed": "not-a-uuid"}.get(
            name, str(getattr(case, "pk", "")))
        mine = through_selector(selector(user, case_id))
        theirs = through_api(client.get(path.format(case_id)), shape)
        assert mine == theirs, (person, kind, name)
        if refused_by_role(person):
            assert mine == (403,), (person, kind, name)


@pytest.mark.parametrize("person", PEOPLE)
def test_the_list_selectors_return_exactly_what_the_api_returns(world, api, person):
    user = world.people[person]
    client = api(user)
    pairs = [
        (lambda: ids(listing.case_list(user, params={}).items),
         through_api(client.get("/api/v1/cases/"), lambda b: ids(b["results"]))),
        (lambda: shares(sharing_selectors.share_request_list(user, params={}).items),
         through_api(client.get("/api/v1/share-requests/"), lambda b: shares(b["results"]))),
    ]
    for call, theirs in pairs:
        mine = through_selector(call)
        assert mine == theirs, person
        if refused_by_role(person):
            assert mine == (403,)
    for share_request in world.requests:
        mine = through_selector(lambda r=share_request: shares(
            [sharing_selectors.share_request_detail(user, r.pk)]))
        theirs = through_api(client.get(f"/api/v1/share-requests/{share_request.pk}/"),
                             lambda b: shares([b]))
        assert mine == theirs, (person, share_request.justification)


@pytest.mark.parametrize("person", PEOPLE)
def test_the_hits_selector_returns_exactly_what_the_api_returns(world, api, person):
    user = world.people[person]

    def named(hits):
        return sorted((h.requested_by.username, tuple(c for c, _ in h.named_cases))
                      for h in hits)

    mine = through_selector(lambda: named(lookup.hits_on_country_cases(user)))
    theirs = through_api(
        api(user).get("/api/v1/lookup/hits/"),
        lambda b: sorted((h["requested_by"], tuple(c["id"] for c in h["cases"]))
                         for h in b["results"]))
    assert mine == theirs
    if person == "us_liaison":
        assert mine == ("ok", [("mx.investigator.w", (str(world.cases["US"].pk),))])


def test_what_the_withheld_fields_hide(world, api):
    """The pending request opened from a hit hides its case from MX, not from the owner."""
    hit_request = world.requests[2]
    for person, hidden in (("mx_investigator", True), ("us_liaison", False)):
        body = api(world.people[person]).get(f"/api/v1/share-requests/{hit_request.pk}/").json()
        assert (body["case"] is None) is hidden
        assert (body["case_reference"] is None) is hidden
        assert (body["handling_code"] is None) is hidden


@pytest.mark.parametrize("person", ["us_auditor", "gt_auditor", "mx_auditor", "administrator"])
def test_auditors_and_administrators_get_nothing_of_case_content_from_any_selector(
        world, person):
    user = world.people[person]
    for scope in permissions.SCOPES:
        assert not selectors.visible_cases(user, scope).exists()
        assert selectors.visible_case_count(user, scope) == 0
        assert not selectors.visible_case_ids(user, scope).exists()
        assert not Case.objects.filter(selectors.case_is_visible(user, scope)).exists()
    for case in world.cases.values():
        assert not selectors.visible_subjects(user, case).exists()
        for call in (
            lambda c=case: selectors.get_case_for(user, c.pk),
            lambda c=case: selectors.case_detail(user, c.pk),
            lambda c=case: selectors.subject_list(user, c.pk),
            lambda c=case: attachments.attachment_list(user, c.pk),
            lambda c=case: sharing_selectors.case_share_list(user, c.pk),
            lambda c=case: selectors.case_for_edit(user, c.pk),
        ):
            assert through_selector(call) == (403,)
    for attachment in Attachment.objects.filter(case__in=world.cases.values()):
        assert through_selector(lambda a=attachment: attachments.attachment_for_download(
            user=user, attachment_id=a.pk)) == (403,)
    for share_request in world.requests:
        assert through_selector(
            lambda r=share_request: sharing_selectors.get_share_request_for(user, r.pk)
        ) == (403,)
    assert through_selector(lambda: listing.case_list(user, params={})) == (403,)
    assert through_selector(lambda: sharing_selectors.share_request_list(user, params={})) == (
        403,)
    assert through_selector(lambda: lookup.hits_on_country_cases(user)) == (403,)


@pytest.mark.parametrize("person", [p for p in PEOPLE if not refused_by_role(p)])
def test_file_downloads_follow_the_scope_through_the_selector(world, person):
    """Download is the one read the API cannot replay here (these files are metadata
    only): the selector's answer against the access model."""
    user = world.people[person]
    for name, case in world.cases.items():
        attachment = Attachment.objects.get(case=case)
        scope = world.scope_of(person, case)
        want = {"owner": ("ok",), "full_with_files": ("ok",), "full": (403,)}.get(scope, (404,))
        got = through_selector(lambda a=attachment: attachments.attachment_for_download(
            user=user, attachment_id=a.pk))
        assert got[:1] == want, (person, name)
