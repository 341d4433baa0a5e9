"""Django admin for cases: metadata to administer, never case content, and no writes."""

import pytest

from cases.models import Case

CONTENT = ("Coyote ring", "Crossings at Tecún Umán", "Rosa Méndez", "ROSA@EXAMPLE.ORG",
           "Not for court use")


@pytest.fixture
def us_case(us_investigator, case_factory, subject_factory):
    case = case_factory(us_investigator, title="Coyote ring",
                        summary="Crossings at Tecún Umán", handling_code="H3",
                        handling_note="Not for court use")
    subject_factory(case, us_investigator, full_name="Rosa Méndez", role="victim",
                    identifiers=[{"identifier_type": "email", "value": "ROSA@EXAMPLE.ORG"}])
    return case


@pytest.fixture
def admin_client(web, administrator):
    return web(administrator)


def test_admin_lists_metadata_only(us_case, admin_client):
    response = admin_client.get("/admin/cases/case/")
    assert response.status_code == 200
    html = response.content.decode()
    assert us_case.reference in html and ">1<" in html  # the subject count
    assert not any(text in html for text in CONTENT)


def test_admin_case_page_is_read_only_metadata(us_case, admin_client):
    response = admin_client.get(f"/admin/cases/case/{us_case.pk}/change/")
    assert response.status_code == 200
    html = response.content.decode()
    assert us_case.reference in html
    assert not any(text in html for text in CONTENT)
    assert 'name="title"' not in html and "Save" not in html


def test_admin_search_is_by_exact_reference_only(us_case, admin_client):
    found = admin_client.get("/admin/cases/case/", {"q": us_case.reference})
    assert us_case.reference in found.content.decode()
    by_title = admin_client.get("/admin/cases/case/", {"q": "Coyote"})
    assert us_case.reference not in by_title.content.decode()


def test_admin_cannot_add_change_or_delete(us_case, admin_client):
    assert admin_client.get("/admin/cases/case/add/").status_code == 403
    assert admin_client.post(f"/admin/cases/case/{us_case.pk}/change/",
                             {"status": "closed"}).status_code == 403
    assert admin_client.post(f"/admin/cases/case/{us_case.pk}/delete/",
                             {"post": "yes"}).status_code == 403
    assert Case.objects.get(pk=us_case.pk).status == "open"


def test_only_cases_are_registered_not_subjects_identifiers_or_grants():
    from django.contrib import admin

    registered = {model._meta.label for model in admin.site._registry}
    assert "cases.Case" in registered
    assert not registered & {"cases.Subject", "cases.Identifier",
                             "cases.CaseGroupObjectPermission",
                             "cases.CaseUserObjectPermission", "cases.CaseCounter"}


def test_investigators_have_no_admin(us_case, web, us_investigator):
    response = web(us_investigator).get("/admin/cases/case/")
    assert response.status_code == 302  # not staff: sent to the login page
