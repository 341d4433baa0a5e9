"""Spanish wording found on a walk: words agree with their nouns, messages name countries as
the other tables do (México, not MX), and a request that just arrived has waited "menos de un
minuto", not "0 minutos"."""

import datetime as dt

from django.utils import timezone

from sharing import services as sharing
from sharing.models import ShareRequest
from workinggroup.models import Country


def offer(case, requester, code, days=30):
    [share] = sharing.share_requests_offer(
        requester=requester, case=case, recipient_countries=[Country.objects.get(code=code)],
        scope="full", justification="Operación conjunta en la ruta del sur",
        expires_at=timezone.now() + dt.timedelta(days=days))
    return share


def main(html):
    return html.split("<main", 1)[1].split("</main>", 1)[0]


def spanish(client):
    client.cookies["django_language"] = "es"
    return client


def test_the_inbox_says_less_than_a_minute_and_no_named_person_in_the_feminine(
    web, make_case, us_investigator, us_liaison
):
    case = make_case("US", title="Ruta del Soconusco", handling_code="H1")
    share = offer(case, us_investigator, "MX")
    html = main(spanish(web(us_liaison)).get("/liaison/").content.decode())
    assert "<dt>Personas nombradas</dt><dd>Ninguna</dd>" in html
    assert "<dt>En espera desde hace</dt><dd>menos de un minuto</dd>" in html
    ShareRequest.objects.filter(pk=share.pk).update(
        created_at=timezone.now() - dt.timedelta(minutes=5))
    html = main(web(us_liaison).get("/liaison/").content.decode())
    assert "<dt>Waiting for</dt><dd>5\xa0minutes</dd>" in html


def test_the_approve_flash_names_mexico_in_the_pages_language(
    web, make_case, us_investigator, us_liaison
):
    case = make_case("US", title="Ruta del Soconusco", handling_code="H1")
    share = offer(case, us_investigator, "MX")
    response = spanish(web(us_liaison)).post(f"/liaison/requests/{share.pk}/decide/",
                                             {"decision": "approve", "note": ""}, follow=True)
    html = response.content.decode()
    assert f"Aprobada: {case.reference} se comparte con México." in html
    assert "con MX" not in html


def test_the_grants_page_agrees_with_its_noun_and_names_the_owner_country(
    web, make_case, us_liaison, mx_liaison
):
    mx_case = make_case("MX", title="Caso Espejo")
    share = offer(mx_case, mx_case.created_by, "US")
    sharing.share_request_approve(share_request=share, liaison=mx_liaison)
    html = main(spanish(web(us_liaison)).get("/liaison/grants/").content.decode())
    assert 'aria-current="page">Activas</a>' in html
    received = html.split("Accesos que su país recibió", 1)[1]
    row = received.split(mx_case.reference, 1)[1].split("</tr>", 1)[0]
    assert "<td>México</td>" in row and "<td>MX</td>" not in row
    assert "<p>Ninguno.</p>" in html  # no "acceso" to the US's own cases yet
