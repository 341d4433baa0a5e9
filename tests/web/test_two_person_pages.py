"""Issue 18's pages without a browser: an H2 case needs two liaisons (the inbox says who
approved and that one more is needed; the same liaison's second approval is refused with the
service's reason and changes nothing), the offer form opens one request per checked country
or none, a partner's pages never name the other recipient nor the approvers, and the renew
form (its errors beside the fields, the renewal's "renews" line, cancelled by a revocation)."""

import datetime as dt

import pytest
from django.utils import timezone

from sharing import services as sharing
from sharing.models import ShareApproval, ShareRequest, ShareStatus
from workinggroup.models import Country


def day(days):
    return (timezone.now() + dt.timedelta(days=days)).date().isoformat()


@pytest.fixture
def h2_case(make_case):
    return make_case("US", title="Ruta del Soconusco", handling_code="H2")


@pytest.fixture
def us_liaison2(make_member):
    return make_member("US", "liaison", username="us.liaison2")


def offer(case, requester, *codes, days=30):
    return sharing.share_requests_offer(
        requester=requester, case=case,
        recipient_countries=list(Country.objects.filter(code__in=codes).order_by("code")),
        scope="full", justification="Joint operation on the southern route",
        expires_at=timezone.now() + dt.timedelta(days=days))


def main(html):
    """The page's own content (the footer names the founding countries on every page)."""
    return html.split("<main", 1)[1].split("</main>", 1)[0]


def card(html, share):
    return html.split(f'id="request-{share.pk}"', 1)[1].split("</section>", 1)[0]


def test_one_approval_of_an_h2_share_leaves_it_awaiting_and_the_inbox_says_so(
    web, us_investigator, us_liaison, us_liaison2, mx_investigator, h2_case, audit_log
):
    [share] = offer(h2_case, us_investigator, "MX")
    client = web(us_liaison)
    response = client.post(f"/liaison/requests/{share.pk}/decide/",
                           {"decision": "approve", "note": "Fine by me"}, follow=True)
    assert response.redirect_chain == [("/liaison/", 302)]
    html = response.content.decode()
    assert (f"Approval recorded: {h2_case.reference} is not shared with Mexico until another "
            "liaison approves too.") in html
    section = card(html, share)
    assert "Awaiting a second approval" in section
    assert "Approved by us.liaison, needs one more." in section
    assert "You approved this request: the next approval is another liaison's." in section
    # The second liaison's inbox says the same, without the "you approved" line.
    other = card(web(us_liaison2).get("/liaison/").content.decode(), share)
    assert "Approved by us.liaison, needs one more." in other and "You approved" not in other
    share.refresh_from_db()
    assert share.status == ShareStatus.AWAITING_SECOND
    assert web(mx_investigator).get(f"/cases/{h2_case.pk}/").status_code == 404
    [entry] = audit_log(action="share.approve")
    assert entry.details["approval"] == "1 of 2"


def test_the_same_liaison_approving_again_is_refused_with_the_reason_and_nothing_changes(
    web, us_investigator, us_liaison, mx_investigator, h2_case, audit_log
):
    [share] = offer(h2_case, us_investigator, "MX")
    client = web(us_liaison)
    assert client.post(f"/liaison/requests/{share.pk}/decide/",
                       {"decision": "approve"}).status_code == 302
    again = client.post(f"/liaison/requests/{share.pk}/decide/",
                        {"decision": "approve", "note": "Again"})
    assert again.status_code == 403
    html = again.content.decode()
    assert "You cannot do this" in html
    assert ("You already approved this request; its next approval must come from another "
            "liaison of US") in html
    share.refresh_from_db()
    assert share.status == ShareStatus.AWAITING_SECOND
    assert list(ShareApproval.objects.filter(share_request=share).values_list(
        "liaison__username", "note")) == [("us.liaison", "")]
    assert [e.outcome for e in audit_log(action="share.approve")] == ["success", "denied"]
    assert web(mx_investigator).get(f"/cases/{h2_case.pk}/").status_code == 404


def test_the_second_liaison_approves_and_the_request_page_shows_both(
    web, us_investigator, us_liaison, us_liaison2, mx_investigator, h2_case
):
    [share] = offer(h2_case, us_investigator, "MX")
    web(us_liaison).post(f"/liaison/requests/{share.pk}/decide/",
                         {"decision": "approve", "note": "First look done"})
    response = web(us_liaison2).post(f"/liaison/requests/{share.pk}/decide/",
                                     {"decision": "approve", "note": "Second look done"},
                                     follow=True)
    assert f"Approved: {h2_case.reference} is shared with Mexico." in response.content.decode()
    share.refresh_from_db()
    assert (share.status, share.decided_by) == (ShareStatus.APPROVED, us_liaison2)
    page = web(us_investigator).get(f"/requests/{share.pk}/").content.decode()
    approvals = page.split('id="approvals-title"', 1)[1].split("</section>", 1)[0]
    assert approvals.index("us.liaison") < approvals.index("us.liaison2")
    assert "First look done" in approvals and "Second look done" in approvals
    assert web(mx_investigator).get(f"/cases/{h2_case.pk}/").status_code == 200
    grants = web(us_liaison).get("/liaison/grants/").content.decode()
    assert "<td>us.liaison, us.liaison2" in grants.split(f'id="share-{share.pk}"', 1)[1]


def test_the_offer_form_opens_one_request_per_checked_country(
    web, us_investigator, h2_case
):
    form = web(us_investigator).get(f"/cases/{h2_case.pk}/").content.decode()
    assert 'type="checkbox" name="recipient_countries" value="MX"' in form
    assert 'value="US"' not in form.split('id="offer-title"', 1)[1]
    response = web(us_investigator).post(f"/cases/{h2_case.pk}/offer/", {
        "recipient_countries": ["MX", "GT"], "scope": "summary",
        "justification": "Joint operation", "expires_at": day(20)}, follow=True)
    assert response.redirect_chain == [(f"/cases/{h2_case.pk}/", 302)]
    assert ("Offer to Guatemala, Mexico sent to your liaisons: one request per country."
            in response.content.decode())
    rows = ShareRequest.objects.filter(case=h2_case).order_by("recipient_country")
    assert [(r.recipient_country_id, r.status, r.origin, r.approvals_required)
            for r in rows] == [("GT", "pending", "offer", 2), ("MX", "pending", "offer", 2)]


def test_a_country_whose_request_awaits_a_decision_is_shown_but_cannot_be_checked(
    web, us_investigator, us_liaison, us_liaison2, h2_case
):
    [mx] = offer(h2_case, us_investigator, "MX")
    sharing.share_request_approve(share_request=mx, liaison=us_liaison)  # 1 of 2: undecided
    form = web(us_investigator).get(f"/cases/{h2_case.pk}/").content.decode()
    form = form.split('id="offer-title"', 1)[1]
    assert 'name="recipient_countries" value="MX" id="id_recipient_countries_1" disabled' in form
    assert "MX: Mexico (its request awaits a decision)" in form
    assert 'name="recipient_countries" value="GT" id="id_recipient_countries_0">' in form
    sharing.share_request_approve(share_request=mx, liaison=us_liaison2)
    form = web(us_investigator).get(f"/cases/{h2_case.pk}/").content.decode()
    assert 'value="MX" id="id_recipient_countries_1">' in form  # decided: may be offered again


@pytest.mark.parametrize("body, field", [
    ({"recipient_countries": []}, "recipient_countries"),
    ({"recipient_countries": ["MX", "ZZ"]}, "recipient_countries"),
    ({"expires_at": day(400)}, "expires_at"),
    ({"justification": "   "}, "justification"),
])
def test_the_offer_form_creates_nothing_on_an_error_shown_beside_its_field(
    web, us_investigator, h2_case, body, field
):
    data = {"recipient_countries": ["MX", "GT"], "scope": "summary",
            "justification": "Joint operation", "expires_at": day(20), **body}
    response = web(us_investigator).post(f"/cases/{h2_case.pk}/offer/", data)
    assert response.status_code == 400
    assert list(response.context["form"].errors) == [field]
    assert f'href="#id_{field}' in response.content.decode()  # the summary links to it
    assert not ShareRequest.objects.exists()


def test_an_offer_refused_for_one_country_creates_none_for_the_others(
    web, us_investigator, gt_investigator, h2_case
):
    [pending] = offer(h2_case, us_investigator, "GT")
    response = web(us_investigator).post(f"/cases/{h2_case.pk}/offer/", {
        "recipient_countries": ["MX", "GT"], "scope": "summary",
        "justification": "Joint operation", "expires_at": day(20)})
    assert response.status_code == 409
    assert str(pending.pk) in response.content.decode()
    assert list(ShareRequest.objects.values_list("recipient_country", flat=True)) == ["GT"]


def test_a_partners_pages_never_name_the_other_recipient_nor_the_approvers(
    web, us_investigator, us_liaison, us_liaison2, mx_investigator, mx_liaison, h2_case
):
    mx_share, gt_share = sorted(offer(h2_case, us_investigator, "MX", "GT"),
                                key=lambda r: r.recipient_country_id != "MX")
    for liaison in (us_liaison, us_liaison2):
        sharing.share_request_approve(share_request=mx_share, liaison=liaison,
                                      note=f"Checked ({liaison.pk})")
    sharing.share_request_deny(share_request=gt_share, liaison=us_liaison, note="Not now")
    pages = {}
    for member in (mx_investigator, mx_liaison):
        client = web(member)
        for url in ("/requests/", f"/requests/{mx_share.pk}/", f"/cases/{h2_case.pk}/",
                    "/notifications/", "/liaison/grants/"):
            response = client.get(url)
            if response.status_code == 403:  # the grants are the liaison's
                continue
            assert response.status_code == 200, url
            pages[(member.username, url)] = main(response.content.decode())
        assert client.get(f"/requests/{gt_share.pk}/").status_code == 404
    assert pages
    for (member, url), html in pages.items():
        for word in ("Guatemala", ">GT<", "GT:", str(gt_share.pk), "us.liaison",
                     f"Checked ({us_liaison.pk})", "Not now"):
            assert word not in html, (member, url, word)
    detail = pages[("mx.investigator", f"/requests/{mx_share.pk}/")]
    assert "Approved" in detail and 'id="approvals-title"' not in detail
    # An approved offer names its case to the partner (only the approvers are withheld).
    for url in (f"/requests/{mx_share.pk}/", "/requests/"):
        assert f">{h2_case.reference}</a>" in pages[("mx.investigator", url)], url
    assert "from a lookup hit" not in detail


def test_ask_to_renew_opens_a_renewal_the_inbox_shows_and_a_revocation_cancels(
    web, us_investigator, us_liaison, us_liaison2, mx_investigator, h2_case
):
    [grant] = offer(h2_case, us_investigator, "MX", days=20)
    for liaison in (us_liaison, us_liaison2):
        sharing.share_request_approve(share_request=grant, liaison=liaison)
    client = web(mx_investigator)
    detail = client.get(f"/requests/{grant.pk}/").content.decode()
    assert f'href="/requests/{grant.pk}/renew/"' in detail and "Ask to renew" in detail
    assert f'href="/requests/{grant.pk}/renew/"' in client.get("/requests/").content.decode()
    assert f'href="/requests/{grant.pk}/renew/"' in web(us_investigator).get(
        f"/cases/{h2_case.pk}/").content.decode()
    # Liaisons do not ask to renew: no link for them.
    assert "Ask to renew" not in web(us_liaison).get(f"/requests/{grant.pk}/").content.decode()

    form = client.get(f"/requests/{grant.pk}/renew/")
    assert form.status_code == 200 and 'name="justification"' in form.content.decode()
    early = client.post(f"/requests/{grant.pk}/renew/",
                        {"justification": "Still investigating", "expires_at": day(10)})
    assert early.status_code == 400
    assert list(early.context["form"].errors) == ["expires_at"]
    assert "must be later than the share&#x27;s current expiry" in early.content.decode()
    assert ShareRequest.objects.filter(renews=grant).count() == 0

    response = client.post(f"/requests/{grant.pk}/renew/",
                           {"justification": "Still investigating", "expires_at": day(60)})
    renewal = ShareRequest.objects.get(renews=grant)
    assert response.status_code == 302 and response["Location"] == f"/requests/{renewal.pk}/"
    page = client.get(f"/requests/{renewal.pk}/").content.decode()
    assert "Renews" in page and f'href="/requests/{grant.pk}/"' in page
    inbox = card(web(us_liaison).get("/liaison/").content.decode(), renewal)
    assert "Renews" in inbox and f'href="/requests/{grant.pk}/"' in inbox
    assert "Needs 2 approvals, each by a different liaison." in inbox

    sharing.share_request_revoke(share_request=grant, liaison=us_liaison, note="Over")
    for member in (mx_investigator, us_investigator):
        page = web(member).get(f"/requests/{renewal.pk}/").content.decode()
        assert "Cancelled" in page, member
        assert "Cancelled: the share it renewed was revoked before a decision." in page
    assert "Ask to renew" not in client.get(f"/requests/{grant.pk}/").content.decode()


def test_who_may_ask_to_renew(web, us_investigator, us_liaison, us_liaison2, mx_liaison,
                              gt_investigator, h2_case):
    [grant] = offer(h2_case, us_investigator, "MX")
    for liaison in (us_liaison, us_liaison2):
        sharing.share_request_approve(share_request=grant, liaison=liaison)
    body = {"justification": "More time", "expires_at": day(60)}
    assert web(gt_investigator).post(f"/requests/{grant.pk}/renew/", body).status_code == 404
    assert web(mx_liaison).post(f"/requests/{grant.pk}/renew/", body).status_code == 403
    assert not ShareRequest.objects.filter(renews=grant).exists()


def test_the_two_person_pages_in_spanish(web, us_investigator, us_liaison, mx_investigator,
                                         h2_case):
    [share] = offer(h2_case, us_investigator, "MX")
    client = web(us_liaison)
    client.post("/i18n/setlang/", {"language": "es", "next": "/liaison/"})
    response = client.post(f"/liaison/requests/{share.pk}/decide/",
                           {"decision": "approve"}, follow=True)
    html = response.content.decode()
    assert 'lang="es"' in html
    assert "Aprobación registrada" in html
    section = card(html, share)
    assert "Pendiente de una segunda aprobación" in section
    assert "Aprobada por us.liaison, falta una más." in section
    again = client.post(f"/liaison/requests/{share.pk}/decide/", {"decision": "approve"})
    assert again.status_code == 403 and "No puede hacer esto" in again.content.decode()
    offer_page = web(us_investigator)
    offer_page.post("/i18n/setlang/", {"language": "es", "next": "/"})
    form = offer_page.get(f"/cases/{h2_case.pk}/").content.decode()
    assert "Ofrecer a países socios" in form and "Países socios" in form
    assert "MX: México (su solicitud espera una decisión)" in form  # awaiting the second


def test_the_request_page_says_why_the_requester_cannot_approve_and_the_service_refuses(
    web, make_member, us_liaison, h2_case
):
    both = make_member("US", "investigator", "liaison", username="us.both")
    [share] = offer(h2_case, both, "MX")
    client = web(both)
    page = client.get(f"/requests/{share.pk}/").content.decode()
    assert "You asked for this share: another liaison decides it." in page
    assert f'aria-describedby="approve-hint-{share.pk}"' in page
    refused = client.post(f"/liaison/requests/{share.pk}/decide/", {"decision": "approve"})
    assert refused.status_code == 403 and "who did not ask for it" in refused.content.decode()
    assert not ShareApproval.objects.filter(share_request=share).exists()
    # Another liaison reads no such line on the same page.
    assert "You asked for this share" not in web(us_liaison).get(
        f"/requests/{share.pk}/").content.decode()


def test_an_offer_names_its_case_to_the_partner_only_once_approved(
    web, h2_case, us_investigator, us_liaison, us_liaison2, mx_investigator, gt_investigator
):
    """One investigator's offer has not crossed the border: until the owner's liaisons
    approve it, the partner reads neither the case's reference, title and code nor the
    offer's justification; a denied one never shows them; an approved one does."""
    to_gt, to_mx = offer(h2_case, us_investigator, "GT", "MX")
    secrets = (h2_case.reference, h2_case.title, "H2", "southern route")

    def partner_pages(member, share_request):
        client = web(member)
        return (main(client.get("/requests/").content.decode())
                + main(client.get(f"/requests/{share_request.pk}/").content.decode()))

    for member, share_request in ((gt_investigator, to_gt), (mx_investigator, to_mx)):
        page = partner_pages(member, share_request)
        assert "A case of US, shown once a share is approved" in page
        assert [s for s in secrets if s in page] == []
    sharing.share_request_deny(share_request=to_gt, liaison=us_liaison, note="not now")
    for liaison in (us_liaison, us_liaison2):
        sharing.share_request_approve(share_request=to_mx, liaison=liaison)
    assert [s for s in secrets if s in partner_pages(gt_investigator, to_gt)] == []
    assert [s for s in secrets if s in partner_pages(mx_investigator, to_mx)] == list(secrets)


def test_the_recipient_countrys_liaisons_hear_of_an_offer_approved_and_revoked(
    web, h2_case, us_investigator, us_liaison, us_liaison2, mx_liaison
):
    """Nobody of the recipient country asked for an offer, so its liaisons are told in the
    notification centre when it is approved, and again when it is revoked."""
    from sharing.models import Notification

    [to_mx] = offer(h2_case, us_investigator, "MX")
    for liaison in (us_liaison, us_liaison2):
        sharing.share_request_approve(share_request=to_mx, liaison=liaison)
    sharing.share_request_revoke(share_request=to_mx, liaison=us_liaison)
    kinds = list(Notification.objects.filter(member=mx_liaison).order_by("created_at")
                 .values_list("kind", "share_request"))
    assert kinds == [("received", to_mx.pk), ("revoked", to_mx.pk)]
    page = main(web(mx_liaison).get("/notifications/").content.decode())
    assert "A partner shared a case with your country" in page
    assert "A share your country held was revoked" in page
