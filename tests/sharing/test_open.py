"""Opening a share request: who may, which case, and every bad input refused whole."""

import datetime as dt

import pytest
from django.utils import timezone

from audit.models import OutboxEvent
from sharing import services
from sharing.models import NamedSubject, ShareRequest
from workinggroup.models import Country

URL = "/api/v1/share-requests/"


@pytest.fixture
def body(us_case, later):
    def make(**changes):
        data = {
            "case": str(us_case.pk), "recipient_country": "MX", "scope": "full",
            "justification": "Same recruiter seen in Tapachula",
            "expires_at": later(30).isoformat(),
        }
        data.update(changes)
        return {k: v for k, v in data.items() if v is not None}

    return make


def nothing_stored():
    """No request, no named subject, no successful share.open event (refusals are audited)."""
    opened = [
        e for e in OutboxEvent.objects.all()
        if e.event["action"] == "share.open" and e.event["outcome"] == "success"
    ]
    return not ShareRequest.objects.exists() and not NamedSubject.objects.exists() and not opened


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"expires_at": "2020-01-01T00:00:00Z"}, "expires_at"),
        ({"expires_at": "in-a-while"}, "expires_at"),
        ({"justification": None}, "justification"),
        ({"justification": "   "}, "justification"),
        ({"recipient_country": "ZZ"}, "recipient_country"),
        ({"recipient_country": "US"}, "recipient_country"),
        ({"scope": "everything"}, "scope"),
        ({"scope": None}, "scope"),
        ({"case": "not-a-uuid"}, "case"),
        ({"justification": 12345}, "justification"),
        ({"scop": "full"}, "scop"),  # a misspelt key is named, not ignored
    ],
)
def test_bad_input_answers_400_naming_the_field_and_stores_nothing(
    changes, field, api, body, us_investigator
):
    response = api(us_investigator).post(URL, body(**changes), format="json")
    assert response.status_code == 400, response.data
    assert response.data["detail"].startswith(f"{field}:"), response.data
    assert field in response.data["errors"]
    assert nothing_stored()


def test_expiry_more_than_365_days_ahead_is_refused(api, body, us_investigator):
    too_far = timezone.now() + dt.timedelta(days=365, minutes=5)
    response = api(us_investigator).post(URL, body(expires_at=too_far.isoformat()), format="json")
    assert response.status_code == 400
    assert response.data["detail"].startswith("expires_at:")
    assert "365" in response.data["detail"]
    assert nothing_stored()


def test_expiry_exactly_within_the_year_is_accepted(api, body, us_investigator):
    almost = timezone.now() + dt.timedelta(days=364, hours=23)
    response = api(us_investigator).post(URL, body(expires_at=almost.isoformat()), format="json")
    assert response.status_code == 201, response.data


@pytest.mark.parametrize(
    ("role", "scope", "message"),
    [
        ("organiser", "full", "not a protected subject"),
        ("victim", "summary", "only a full or full_with_files share shows subjects"),
    ],
)
def test_named_subjects_must_be_protected_subjects_of_the_case_in_a_full_share(
    role, scope, message, api, body, us_case, subject, us_investigator
):
    named = [str(subject(us_case, role).pk)]
    response = api(us_investigator).post(
        URL, body(scope=scope, named_subjects=named), format="json"
    )
    assert response.status_code == 400
    assert response.data["detail"].startswith("named_subjects:")
    assert message in response.data["detail"]
    assert nothing_stored()


def test_named_subject_of_another_case_is_refused(
    api, body, make_case, us_investigator
):
    from cases.models import Subject

    other = make_case("US")
    stranger = Subject.objects.create(case=other, full_name="Elsewhere", role="victim")
    response = api(us_investigator).post(
        URL, body(named_subjects=[str(stranger.pk)]), format="json"
    )
    assert response.status_code == 400
    assert response.data["detail"].startswith("named_subjects:")
    assert nothing_stored()


def test_owner_offer_needs_a_recipient(api, body, us_investigator):
    response = api(us_investigator).post(URL, body(recipient_country=None), format="json")
    assert response.status_code == 400
    assert response.data["detail"].startswith("recipient_country:")


def test_owner_investigator_offers_to_a_partner(api, body, us_investigator, us_case):
    response = api(us_investigator).post(URL, body(), format="json")
    assert response.status_code == 201
    share_request = ShareRequest.objects.get()
    assert (share_request.case, share_request.recipient_country_id) == (us_case, "MX")
    assert share_request.origin == "offer" and share_request.status == "pending"
    assert share_request.requested_by == us_investigator


def test_partner_cannot_ask_for_a_case_it_cannot_see(api, body, mx_investigator, audit_log):
    response = api(mx_investigator).post(URL, body(recipient_country=None), format="json")
    assert response.status_code == 404
    assert response.data == {"detail": "Not found."}
    assert nothing_stored()
    assert audit_log(action="access.denied", actor=mx_investigator.username)


def test_unknown_case_answers_404_like_an_unseen_one(api, body, mx_investigator):
    unknown = "00000000-0000-4000-8000-000000000000"
    response = api(mx_investigator).post(URL, body(case=unknown), format="json")
    assert response.status_code == 404
    assert response.data == {"detail": "Not found."}


def test_partner_holding_a_share_may_ask_for_more_for_itself(
    api, body, shared, us_case, mx_investigator
):
    shared(us_case, "MX", "summary")
    response = api(mx_investigator).post(
        URL, body(recipient_country=None, scope="full_with_files"), format="json"
    )
    assert response.status_code == 201, response.data
    assert response.data["origin"] == "request"
    assert response.data["recipient_country"] == "MX"
    assert response.data["status"] == "pending"


@pytest.mark.parametrize("scope", ["summary", "full", "full_with_files"])
def test_recipient_never_passes_a_case_on_whatever_its_scope(
    scope, api, body, shared, us_case, mx_investigator, audit_log
):
    shared(us_case, "MX", scope)
    response = api(mx_investigator).post(URL, body(recipient_country="GT"), format="json")
    assert response.status_code == 403
    assert "owner country" in response.data["detail"]
    assert not ShareRequest.objects.filter(recipient_country="GT").exists()
    [entry] = audit_log(action="share.open", outcome="denied")
    assert (entry.actor, entry.case_id) == (mx_investigator.username, str(us_case.pk))


def test_partner_cannot_name_the_owner_as_recipient(api, body, shared, us_case, mx_investigator):
    shared(us_case, "MX", "summary")
    response = api(mx_investigator).post(URL, body(recipient_country="US"), format="json")
    assert response.status_code == 400
    assert response.data["detail"].startswith("recipient_country:")


@pytest.mark.parametrize("persona", ["us_auditor", "administrator"])
def test_only_investigators_and_liaisons_open_requests(persona, request, api, body):
    member = request.getfixturevalue(persona)
    response = api(member).post(URL, body(), format="json")
    assert response.status_code == 403
    assert nothing_stored()


def test_service_refuses_a_partner_offer_for_an_unseen_case_even_if_called_directly(
    us_case, mx_investigator, later
):
    from django.http import Http404

    with pytest.raises(Http404):
        services.share_request_open(
            requester=mx_investigator, case=us_case, recipient_country=None, scope="full",
            justification="x", expires_at=later(3),
        )
    assert not ShareRequest.objects.exists()


def test_hit_path_lets_a_partner_ask_for_a_case_it_cannot_see(us_case, gt_investigator, later):
    share_request = services.share_request_open(
        requester=gt_investigator, case=us_case, recipient_country=None, scope="summary",
        justification="Lookup hit on a passport", expires_at=later(3), from_hit=True,
    )
    assert share_request.origin == "hit"
    assert share_request.recipient_country == Country.objects.get(code="GT")


def test_a_second_pending_request_for_the_same_case_and_recipient_is_refused(
    api, us_investigator, us_case
):
    body = {"case": str(us_case.pk), "recipient_country": "MX", "scope": "summary",
            "justification": "joint operation",
            "expires_at": (timezone.now() + dt.timedelta(days=30)).isoformat()}
    first = api(us_investigator).post("/api/v1/share-requests/", body, format="json")
    assert first.status_code == 201
    second = api(us_investigator).post("/api/v1/share-requests/", body, format="json")
    assert second.status_code == 409
    assert first.json()["id"] in second.json()["detail"]
    assert second.json()["status"] == "pending"
    assert ShareRequest.objects.filter(case=us_case).count() == 1
