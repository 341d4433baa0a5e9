"""The access matrix over the pages: every role of every country, and the administrator,
against cases of each country and two shared ones. Pages answer exactly as the API does:
auditors and administrators 403, unseen cases 404 (like missing or malformed ids), and a
partner's page shows no victim or witness its share does not name."""

import uuid

import pytest

from tests.cases.test_access_matrix import OBJECT_CASES, PEOPLE, refused_by_role, role_of


def expected(world, person, page, case):
    if refused_by_role(person):
        return 403
    scope = world.scope_of(person, case)
    if scope is None:
        return 404
    if page == "subject_add":
        return 200 if scope == "owner" and role_of(person) == "investigator" else 403
    return 200


@pytest.mark.parametrize("person", PEOPLE)
@pytest.mark.parametrize("page", ["detail", "subject_add"])
def test_case_pages_follow_the_access_model(module_world, web, person, page):
    client = web(module_world.people[person])
    for name in [*OBJECT_CASES, "missing", "malformed"]:
        if name in OBJECT_CASES:
            case = module_world.cases[name]
            case_id, want = case.pk, expected(module_world, person, page, case)
        else:
            case_id = uuid.uuid4() if name == "missing" else "not-a-uuid"
            want = 403 if refused_by_role(person) else 404
        url = f"/cases/{case_id}/" + ("subjects/new/" if page == "subject_add" else "")
        response = client.get(url)
        assert response.status_code == want, (person, page, name)
        html = response.content.decode()
        if want != 200 and name in OBJECT_CASES:
            assert module_world.cases[name].title not in html
        if want == 200 and page == "detail" and name in OBJECT_CASES:
            scope = module_world.scope_of(person, module_world.cases[name])
            if scope != "owner":
                assert "Victima Dos" not in html and "Testigo Cuatro" not in html
            if scope == "summary":
                assert "Organiser" not in html


@pytest.mark.parametrize("person", PEOPLE)
def test_the_case_list_page_holds_exactly_what_the_country_holds(module_world, web, person):
    response = web(module_world.people[person]).get("/cases/")
    if refused_by_role(person):
        assert response.status_code == 403
        return
    assert response.status_code == 200
    html = response.content.decode()
    for case in module_world.cases.values():
        held = module_world.scope_of(person, case) is not None
        assert (f"/cases/{case.pk}/" in html) == held, (person, case.title)


@pytest.mark.parametrize("person", PEOPLE)
def test_file_downloads_of_unknown_ids_reveal_nothing(module_world, web, person):
    client = web(module_world.people[person])
    for attachment_id in (uuid.uuid4(), "not-a-uuid"):
        response = client.get(f"/evidence/{attachment_id}/")
        assert response.status_code == (403 if refused_by_role(person) else 404)
