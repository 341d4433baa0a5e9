"""The cross-country access matrix: every case endpoint and method, for every role in every
country and the administrator, against cases owned by each country (and two shared ones).

No unseen case ever answers 2xx, lists hold exactly what the caller's country holds, and every
refusal (403 or 404) is in the audit log as access.denied.
"""

import uuid

import pytest

from cases.models import Case

PEOPLE = [f"{cc}_{role}" for cc in ("us", "gt", "mx")
          for role in ("investigator", "liaison", "auditor")] + ["administrator"]
# What the share states of issue 18 open, per partner (tests/cases/conftest.py builds them
# through the sharing services): only a fully approved, unexpired share opens anything.
SHARE_STATES = {
    "US>MX awaiting": {"MX": None, "GT": None},  # one approval of the two an H2 case needs
    "US>GT+MX": {"GT": "summary", "MX": None},  # one offer to both: GT's approved, MX's denied
    "US>MX cancelled": {"MX": None, "GT": None},  # revoked, its renewal cancelled
    "US>MX renewed": {"MX": "summary", "GT": None},  # past the first expiry, renewed in time
}
OBJECT_CASES = ["US", "GT", "MX", "US>MX", "US>GT", *SHARE_STATES]
SUBJECT_BODY = {"full_name": "Nuevo Sujeto", "role": "recruiter",
                "identifiers": [{"identifier_type": "phone", "value": "+502 5555 1234"}]}


def role_of(person):
    return person.split("_", 1)[1] if "_" in person else person


def refused_by_role(person):
    return role_of(person) in ("auditor", "administrator")


def expected_status(world, person, endpoint, case):
    """What the access model says the answer is."""
    if refused_by_role(person):
        return 403
    scope = world.scope_of(person, case)
    if scope is None:
        return 404
    investigator_owner = scope == "owner" and role_of(person) == "investigator"
    if endpoint == "detail_get":
        return 200
    if endpoint == "detail_patch":
        return 200 if investigator_owner else 403
    if endpoint == "subjects_get":
        return 200 if scope in ("owner", "full", "full_with_files") else 403
    if endpoint == "subjects_post":
        return 201 if investigator_owner else 403
    raise AssertionError(endpoint)


def call(client, endpoint, case_id):
    if endpoint == "detail_get":
        return client.get(f"/api/v1/cases/{case_id}/")
    if endpoint == "detail_patch":
        return client.patch(f"/api/v1/cases/{case_id}/", {"status": "closed"}, format="json")
    if endpoint == "subjects_get":
        return client.get(f"/api/v1/cases/{case_id}/subjects/")
    if endpoint == "subjects_post":
        return client.post(f"/api/v1/cases/{case_id}/subjects/", SUBJECT_BODY, format="json")
    raise AssertionError(endpoint)


def assert_denials_audited(audit_log, user, denied):
    entries = audit_log(action="access.denied", actor=user.username)
    got = sorted((e.details["method"], e.details["path"], e.details["status"]) for e in entries)
    assert got == sorted(denied)
    assert all(e.outcome == "denied" and e.actor_country == (user.country_id or "")
               for e in entries)


@pytest.mark.parametrize("person", PEOPLE)
@pytest.mark.parametrize("endpoint", ["detail_get", "detail_patch", "subjects_get",
                                      "subjects_post"])
def test_object_endpoints_follow_the_access_model(module_world, api, audit_log, person,
                                                  endpoint):
    user = module_world.people[person]
    client = api(user)
    denied = []
    ids = {name: str(case.pk) for name, case in module_world.cases.items()}
    # Plus a case that does not exist and an id that is not a UUID: the same 404 as unseen.
    for name in [*OBJECT_CASES, "missing", "malformed"]:
        if name == "missing":
            case_id, want = str(uuid.uuid4()), 403 if refused_by_role(person) else 404
        elif name == "malformed":
            case_id, want = "not-a-uuid", 403 if refused_by_role(person) else 404
        else:
            case_id = ids[name]
            want = expected_status(module_world, person, endpoint, module_world.cases[name])
        response = call(client, endpoint, case_id)
        assert response.status_code == want, (person, endpoint, name, response.json())
        if want in (403, 404):
            assert set(response.json()) == {"detail"}
            request = response.request
            denied.append((request["REQUEST_METHOD"], request["PATH_INFO"], want))
        if endpoint == "subjects_get" and want == 200 and name in OBJECT_CASES:
            roles = {s["role"] for s in response.json()["results"]}
            if module_world.scope_of(person, module_world.cases[name]) != "owner":
                assert not roles & {"victim", "witness"}, (person, name)
            else:
                assert roles & {"victim", "witness"} or name in ("US>MX", *SHARE_STATES)
        if want == 404 and name in OBJECT_CASES:
            # An unseen case answers exactly like a missing one: existence does not leak.
            assert response.json() == {"detail": "Not found."}
    assert_denials_audited(audit_log, user, denied)


@pytest.mark.parametrize("name", SHARE_STATES)
def test_the_share_states_open_exactly_what_the_access_model_says(module_world, name):
    for country, scope in SHARE_STATES[name].items():
        assert module_world.scope_of(f"{country.lower()}_investigator",
                                     module_world.cases[name]) == scope, (name, country)


@pytest.mark.parametrize("person", PEOPLE)
def test_list_holds_exactly_what_the_country_holds(module_world, api, audit_log, person):
    user = module_world.people[person]
    response = api(user).get("/api/v1/cases/")
    if refused_by_role(person):
        assert response.status_code == 403
        assert_denials_audited(audit_log, user, [("GET", "/api/v1/cases/", 403)])
        return
    assert response.status_code == 200
    listed = {row["id"] for row in response.json()["results"]}
    held = {str(case.pk) for case in module_world.cases.values()
            if module_world.scope_of(person, case) is not None}
    assert listed == held
    assert response.json()["count"] == len(held)
    # Unshared cases of other countries never appear, whatever else the database holds.
    others = Case.objects.exclude(owner_country_id=user.country_id).values_list("pk", flat=True)
    shared = {str(module_world.cases[n].pk) for n in ("US>MX", "US>GT", *SHARE_STATES)}
    assert not (listed & ({str(pk) for pk in others} - shared))
    assert_denials_audited(audit_log, user, [])


@pytest.mark.parametrize("person", PEOPLE)
def test_only_investigators_create_cases_for_their_own_country(module_world, api, audit_log,
                                                               person):
    user = module_world.people[person]
    response = api(user).post(
        "/api/v1/cases/", {"title": "New", "case_type": "smuggling"}, format="json"
    )
    if role_of(person) == "investigator":
        assert response.status_code == 201
        assert response.json()["owner_country"] == user.country_id
        assert_denials_audited(audit_log, user, [])
    else:
        assert response.status_code == 403
        assert not Case.objects.filter(title="New").exists()
        assert_denials_audited(audit_log, user, [("POST", "/api/v1/cases/", 403)])
