"""The investigators' pages without a browser: landing, navigation, the list's filters in
the URL, service errors beside their fields (in Spanish too), lookups, requests, offers."""

import datetime as dt
import re

import pytest
from django.utils import timezone

from cases import services
from sharing import services as sharing
from sharing.models import ShareRequest
from workinggroup.models import Country

CASE = {"title": "Operación Quetzal", "case_type": "trafficking", "handling_code": "H0",
        "handling_note": "", "source_reliability": "B", "information_assessment": "2",
        "summary": "Recruitment through fake job offers."}


def nav(html):
    block = html.split('<nav class="site-nav"', 1)[1].split("</nav>", 1)[0]
    return re.findall(r'<a href="([^"]+)"', block)


def subject_form(**fields):
    data = {"full_name": "Ana Lucía Choc", "role": "victim", "aliases": "La Güera\nAna C.",
            "source_reliability": "X", "information_assessment": "4",
            "identifiers-TOTAL_FORMS": "4", "identifiers-INITIAL_FORMS": "0"}
    for n in range(4):
        data[f"identifiers-{n}-identifier_type"] = "passport"
        data[f"identifiers-{n}-value"] = ""
    data.update(fields)
    return data


@pytest.fixture
def us_case(make_case):
    return make_case("US", title="Red Tapachula")


def test_an_investigator_lands_on_the_cases_a_liaison_on_the_inbox_others_on_their_account(
    web, us_investigator, us_liaison, us_auditor, administrator, make_member
):
    assert web(us_investigator).get("/")["Location"] == "/cases/"
    assert web(us_liaison).get("/")["Location"] == "/liaison/"
    assert web(us_auditor).get("/")["Location"] == "/audit/"  # auditors: the audit log
    assert web(administrator).get("/")["Location"] == "/account/"
    statistics = make_member("MX", "statistics", username="mx.statistics")
    assert web(statistics).get("/")["Location"] == "/dashboard/"  # their figures' page


def test_navigation_follows_the_roles(web, us_investigator, us_liaison, us_auditor):
    assert nav(web(us_investigator).get("/account/").content.decode())[:3] == [
        "/cases/", "/lookup/", "/requests/"]
    assert nav(web(us_liaison).get("/account/").content.decode())[:5] == [
        "/cases/", "/requests/", "/liaison/", "/liaison/grants/", "/liaison/hits/"]
    assert nav(web(us_auditor).get("/account/").content.decode()) == [
        "/audit/", "/audit/verify/", "/dashboard/", "/account/"]  # every member sees the dashboard


def test_a_case_is_opened_and_shown_with_its_handling_code(web, us_investigator):
    client = web(us_investigator)
    response = client.post("/cases/new/", CASE)
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "Operación Quetzal" in page
    banner = page.split('class="handling', 1)[1].split("</div>", 1)[0]
    assert "<strong>Handling code H0</strong>" in banner
    assert "<span>Law-enforcement purposes only</span>" in banner and "H0:" not in banner
    # each code once: "B2: source mostly reliable; ...", not "B2: B: mostly reliable; 2: ..."
    assert "<strong>B2</strong>: source mostly reliable; information " in page
    assert "B: mostly reliable" not in page


def test_the_services_refusal_is_shown_beside_its_field_in_spanish(web, us_investigator):
    client = web(us_investigator)
    response = client.post("/cases/new/", {**CASE, "handling_code": "H3"},
                           HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 400
    html = response.content.decode()
    assert 'class="error-summary"' in html and "Hay un problema" in html
    assert 'href="#id_handling_note"' in html
    assert response.context["form"].errors["handling_note"]
    assert "H3" in response.context["form"].errors["handling_note"][0]


def test_a_subject_with_several_identifiers_at_once(web, us_investigator, us_case):
    client = web(us_investigator)
    response = client.post(f"/cases/{us_case.pk}/subjects/new/", subject_form(**{
        "identifiers-0-value": "X1234567",
        "identifiers-1-identifier_type": "phone", "identifiers-1-value": "+502 5555 1234",
        "identifiers-2-identifier_type": "email", "identifiers-2-value": "ana@example.org",
    }))
    assert response.status_code == 302
    subject = us_case.subjects.get()
    assert subject.aliases == ["La Güera", "Ana C."]
    assert sorted(subject.identifiers.values_list("identifier_type", flat=True)) == [
        "email", "passport", "phone"]


def test_a_bad_identifier_is_named_in_its_row_and_nothing_is_stored(
    web, us_investigator, us_case
):
    client = web(us_investigator)
    response = client.post(f"/cases/{us_case.pk}/subjects/new/", subject_form(**{
        "identifiers-0-value": "X1234567",
        "identifiers-2-identifier_type": "phone", "identifiers-2-value": "12",
    }), HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 400
    formset = response.context["formset"]
    assert formset.forms[2].errors["value"] == ["no es un número de teléfono válido"]
    assert not formset.forms[0].errors
    assert not us_case.subjects.exists()


def test_a_subject_is_edited_and_given_another_identifier(web, us_investigator, us_case):
    subject = services.subject_add(case=us_case, actor=us_investigator, full_name="Ana Choc",
                                   role="victim")
    client = web(us_investigator)
    url = f"/cases/{us_case.pk}/subjects/{subject.pk}/edit/"
    assert client.get(url).status_code == 200
    response = client.post(url, subject_form(**{
        "full_name": "Ana Lucía Choc", "identifiers-0-value": "X7654321"}))
    assert response.status_code == 302
    subject.refresh_from_db()
    assert subject.full_name == "Ana Lucía Choc"
    assert list(subject.identifiers.values_list("value", flat=True)) == ["X7654321"]


def test_the_list_is_searched_and_filtered_from_the_url(web, us_investigator, make_case):
    services.subject_add(case=make_case("US", title="Alpha"), actor=us_investigator,
                         full_name="Rigoberto Salazar", role="organiser")
    make_case("US", title="Bravo", handling_code="H2")
    client = web(us_investigator)

    def titles(query):
        response = client.get(f"/cases/?{query}")
        return response.status_code, sorted(c.title for c, _held in response.context["rows"])

    assert titles("") == (200, ["Alpha", "Bravo"])
    assert titles("q=salazar") == (200, ["Alpha"])
    assert titles("handling_code=H2") == (200, ["Bravo"])
    assert titles("owner_country=MX") == (200, [])
    status, rows = titles("owner_country=%25s")
    assert status == 400 and rows == []


def test_a_partners_row_shows_the_scope_and_expiry(
    web, us_investigator, us_liaison, mx_investigator, us_case
):
    expires = timezone.now() + dt.timedelta(days=30)
    offer = sharing.share_request_open(
        requester=us_investigator, case=us_case, recipient_country=Country.objects.get(
            code="MX"), scope="full", justification="joint", expires_at=expires)
    sharing.share_request_approve(share_request=offer, liaison=us_liaison)
    response = web(mx_investigator).get("/cases/")
    [(case, held)] = response.context["rows"]
    assert case == us_case and held[0] == "full"
    assert "Header, summary, subjects, identifiers and notes" in response.content.decode()


def test_an_offer_and_a_second_one_refused_naming_the_first(web, us_investigator, us_case):
    client = web(us_investigator)
    day = (timezone.now() + dt.timedelta(days=20)).date().isoformat()
    body = {"recipient_countries": ["MX"], "scope": "summary", "justification": "joint",
            "expires_at": day}
    assert client.post(f"/cases/{us_case.pk}/offer/", body).status_code == 302
    response = client.post(f"/cases/{us_case.pk}/offer/", body)
    first = ShareRequest.objects.get(case=us_case)
    assert response.status_code == 409
    assert str(first.pk) in response.content.decode()


def test_an_expiry_beyond_the_services_bound_is_refused_beside_the_field(
    web, us_investigator, us_case
):
    day = (timezone.now() + dt.timedelta(days=400)).date().isoformat()
    response = web(us_investigator).post(f"/cases/{us_case.pk}/offer/", {
        "recipient_countries": ["MX"], "scope": "summary", "justification": "joint",
        "expires_at": day})
    assert response.status_code == 400
    assert response.context["form"].errors["expires_at"]
    assert not ShareRequest.objects.exists()


def test_lookup_no_hit_then_hit_then_the_rate_limit_as_a_message(
    web, us_investigator, mx_investigator, us_case, settings
):
    services.subject_add(case=us_case, actor=us_investigator, full_name="Hector Ruiz",
                         role="transporter",
                         identifiers=[{"identifier_type": "passport", "value": "G7654321"}])
    client = web(mx_investigator)
    miss = client.post("/lookup/", {"identifier_type": "passport", "value": "Z0000000"})
    assert "No partner holds this." in miss.content.decode()
    hit = client.post("/lookup/", {"identifier_type": "passport", "value": "g765-4321"})
    html = hit.content.decode()
    assert "Held by US (United States): 1 case" in html and us_case.reference not in html
    settings.LOOKUP_RATE_LIMIT_PER_HOUR = 2
    limited = client.post("/lookup/", {"identifier_type": "passport", "value": "G7654321"})
    assert limited.status_code == 429
    assert "limit of 2 lookups an hour" in limited.content.decode()


def test_the_requests_page_withholds_a_hits_case_until_approved(
    web, us_investigator, mx_investigator, us_case
):
    services.subject_add(case=us_case, actor=us_investigator, full_name="Hector Ruiz",
                         role="transporter",
                         identifiers=[{"identifier_type": "passport", "value": "G7654321"}])
    client = web(mx_investigator)
    html = client.post("/lookup/", {"identifier_type": "passport",
                                    "value": "G7654321"}).content.decode()
    hit_id = re.search(r'name="0-hit_id" value="([^"]+)"', html).group(1)
    day = (timezone.now() + dt.timedelta(days=20)).date().isoformat()
    response = client.post("/lookup/ask/", {"prefix": "0", "0-hit_id": hit_id,
                                            "0-scope": "summary", "0-justification": "ours",
                                            "0-expires_at": day})
    assert response["Location"] == "/requests/"
    page = client.get("/requests/").content.decode()
    assert "A case of US, shown once a share is approved" in page
    assert us_case.reference not in page and str(us_case.pk) not in page
    assert us_case.reference in web(us_investigator).get("/requests/").content.decode()


def test_every_page_links_a_favicon_and_favicon_ico_is_served(db, client):
    html = client.get("/signin/").content.decode()
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in html
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200
    assert icon["Content-Type"] in ("image/x-icon", "image/vnd.microsoft.icon")
    assert b"".join(icon.streaming_content)[:4] == b"\x00\x00\x01\x00"  # an ICO header
    svg = client.get("/static/favicon.svg")
    assert svg.status_code == 200 and svg["Content-Type"].startswith("image/svg+xml")
