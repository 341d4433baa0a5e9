"""The liaisons' pages without a browser: the inbox (oldest first, what each request asks),
approve and deny with a note, a second liaison's late decision answered as a conflict naming
the new state, the refusals by role and country, the grants with revocation and history."""

import datetime as dt

import pytest
from django.utils import formats, timezone

from sharing import services as sharing
from sharing.models import ShareRequest, ShareStatus
from workinggroup.models import Country


def expiry(days=30):
    return timezone.now() + dt.timedelta(days=days)


@pytest.fixture
def us_case(make_case):
    return make_case("US", title="Red Tapachula", handling_code="H1")


def ask(case, requester, scope="full", named=()):
    return sharing.share_request_open(
        requester=requester, case=case, recipient_country=requester.country,
        scope=scope, justification="Same recruiter in Tapachula", expires_at=expiry(),
        named_subjects=named, from_hit=True,
    )


def test_the_inbox_lists_pending_requests_oldest_first(
    web, us_liaison, mx_investigator, gt_investigator, us_case, make_case
):
    older = ask(us_case, mx_investigator)
    newer = ask(make_case("US", title="Ruta Norte"), gt_investigator, scope="summary")
    ShareRequest.objects.filter(pk=older.pk).update(
        created_at=timezone.now() - dt.timedelta(days=3))
    html = web(us_liaison).get("/liaison/").content.decode()
    assert html.index(f'id="request-{older.pk}"') < html.index(f'id="request-{newer.pk}"')
    section = html.split(f'id="request-{older.pk}"', 1)[1].split("</section>", 1)[0]
    assert us_case.reference in section and "Red Tapachula" in section
    assert "H1" in section and "Same recruiter in Tapachula" in section
    assert "mx.investigator" in section
    assert "Header, summary, subjects, identifiers and notes" in section
    assert "3\xa0days" in section


def test_approve_with_a_note_then_a_late_second_liaison_gets_the_conflict(
    web, us_liaison, make_member, mx_investigator, us_case, audit_log
):
    share = ask(us_case, mx_investigator)
    second = make_member("US", "liaison", username="us.liaison.2")
    first_client, second_client = web(us_liaison), web(second)
    assert f"request-{share.pk}" in second_client.get("/liaison/").content.decode()

    response = first_client.post(f"/liaison/requests/{share.pk}/decide/",
                                 {"decision": "approve", "note": "Go ahead"})
    assert response.status_code == 302 and response["Location"] == "/liaison/"
    share.refresh_from_db()
    assert (share.status, share.decision_note, share.decided_by) == (
        ShareStatus.APPROVED, "Go ahead", us_liaison)

    late = second_client.post(f"/liaison/requests/{share.pk}/decide/",
                              {"decision": "deny", "note": "No"})
    assert late.status_code == 409
    assert ("The share request is approved; only a pending request can be denied"
            in late.content.decode())
    approvals = audit_log(action="share.approve")
    assert [(e.outcome, e.actor) for e in approvals] == [("success", "us.liaison")]
    assert [e.outcome for e in audit_log(action="share.deny")] == ["failure"]
    share.refresh_from_db()
    assert share.status == ShareStatus.APPROVED


def test_deny_and_the_conflict_in_spanish(web, us_liaison, make_member, mx_investigator,
                                          us_case):
    share = ask(us_case, mx_investigator)
    client = web(us_liaison)
    assert client.post(f"/liaison/requests/{share.pk}/decide/",
                       {"decision": "deny", "note": "Not yet"}).status_code == 302
    client.post("/i18n/setlang/", {"language": "es", "next": "/liaison/"})
    late = client.post(f"/liaison/requests/{share.pk}/decide/", {"decision": "approve"})
    assert late.status_code == 409
    assert 'lang="es"' in late.content.decode()
    assert "Solicitudes por decidir" in late.content.decode()


def test_who_may_decide(web, us_liaison, mx_liaison, gt_liaison, us_investigator, us_auditor,
                        mx_investigator, us_case):
    share = ask(us_case, mx_investigator)
    url = f"/liaison/requests/{share.pk}/decide/"
    # The recipient country's liaison sees the request but cannot decide it.
    assert web(mx_liaison).post(url, {"decision": "approve"}).status_code == 403
    # An uninvolved country's liaison does not learn the request exists.
    assert web(gt_liaison).post(url, {"decision": "approve"}).status_code == 404
    assert web(gt_liaison).post("/liaison/requests/not-an-id/decide/",
                                {"decision": "approve"}).status_code == 404
    # Investigators of the owner country do not decide; auditors read no requests.
    assert web(us_investigator).post(url, {"decision": "approve"}).status_code == 403
    assert web(us_auditor).post(url, {"decision": "approve"}).status_code == 403
    share.refresh_from_db()
    assert share.status == ShareStatus.PENDING


def test_nobody_sees_another_countrys_inbox(web, us_liaison, mx_liaison, gt_liaison,
                                            us_investigator, us_auditor, mx_investigator,
                                            administrator, us_case):
    share = ask(us_case, mx_investigator)
    assert f"request-{share.pk}" in web(us_liaison).get("/liaison/").content.decode()
    for member in (mx_liaison, gt_liaison):
        response = web(member).get("/liaison/")
        assert response.status_code == 200 and f"request-{share.pk}" not in (
            response.content.decode())
        assert us_case.reference not in web(member).get("/liaison/grants/").content.decode()
    for member in (us_investigator, us_auditor, administrator):
        for url in ("/liaison/", "/liaison/grants/", "/liaison/grants/?tab=history"):
            assert web(member).get(url).status_code == 403, (member, url)


def test_an_investigator_who_is_also_a_liaison_cannot_approve_their_own_offer(
    web, make_member, us_case
):
    both = make_member("US", "investigator", "liaison", username="us.both")
    offer = sharing.share_request_open(
        requester=both, case=us_case, recipient_country=Country.objects.get(code="MX"),
        scope="summary", justification="For the joint operation", expires_at=expiry())
    response = web(both).post(f"/liaison/requests/{offer.pk}/decide/",
                              {"decision": "approve"})
    assert response.status_code == 403
    assert "who did not ask for it" in response.content.decode()
    offer.refresh_from_db()
    assert offer.status == ShareStatus.PENDING


def test_grants_revoke_and_history(web, us_liaison, mx_liaison, mx_investigator, us_case,
                                   make_case):
    share = ask(us_case, mx_investigator)
    sharing.share_request_approve(share_request=share, liaison=us_liaison)
    mx_case = make_case("MX", title="Caso Espejo")
    given_to_us = sharing.share_request_open(
        requester=mx_case.created_by, case=mx_case,
        recipient_country=Country.objects.get(code="US"), scope="summary",
        justification="Joint operation", expires_at=expiry(10))
    sharing.share_request_approve(share_request=given_to_us, liaison=mx_liaison)

    client = web(us_liaison)
    html = client.get("/liaison/grants/").content.decode()
    active = html.split("Shares your country received", 1)
    assert f'id="share-{share.pk}"' in active[0] and "us.liaison" in active[0]
    assert mx_case.reference in active[1]
    # The recipient's liaison has no revoke on a partner's case.
    assert web(mx_liaison).post(f"/liaison/grants/{share.pk}/revoke/").status_code == 403

    response = client.post(f"/liaison/grants/{share.pk}/revoke/", {"note": "Case closed"})
    assert response.status_code == 302
    share.refresh_from_db()
    assert (share.status, share.revocation_note) == (ShareStatus.REVOKED, "Case closed")
    assert f'id="share-{share.pk}"' not in client.get("/liaison/grants/").content.decode()
    history = client.get("/liaison/grants/?tab=history").content.decode()
    assert f'id="share-{share.pk}"' in history and "Case closed" in history
    row = history.split(f'id="share-{share.pk}"', 1)[1].split("</tr>", 1)[0]
    revoked_on = formats.date_format(timezone.localtime(share.revoked_at), "DATE_FORMAT")
    assert f"Revoked on {revoked_on} by us.liaison" in row
    assert formats.date_format(timezone.localtime(share.expires_at), "DATE_FORMAT") not in row
    assert "<th scope=\"col\">Ended</th>" in history
    again = client.post(f"/liaison/grants/{share.pk}/revoke/")
    assert again.status_code == 409
    assert "only an approved share can be revoked" in again.content.decode()


def test_a_liaison_lands_on_the_inbox_and_sees_its_entries(web, us_liaison):
    client = web(us_liaison)
    assert client.get("/")["Location"] == "/liaison/"
    html = client.get("/liaison/").content.decode()
    assert 'href="/liaison/grants/"' in html and 'aria-current="page">Inbox' in html


def test_hits_on_our_cases_say_who_asked_which_case_and_whether_a_request_followed(
    web, us_investigator, us_liaison, mx_investigator, gt_liaison, us_auditor, us_case
):
    from cases import services as case_services
    from sharing import lookup

    case_services.subject_add(
        case=us_case, actor=us_investigator, full_name="Hector Ruiz", role="transporter",
        identifiers=[{"identifier_type": "passport", "value": "G7654321"}])
    found = lookup.lookup_identifier(user=mx_investigator, identifier_type="passport",
                                     value="G7654321")
    hit_id = found["hits"][0]["hit_id"]
    client = web(us_liaison)
    row = client.get("/liaison/hits/").content.decode().split(f'id="hit-{hit_id}"', 1)[1]
    row = row.split("</tr>", 1)[0]
    assert "mx.investigator (MX)" in row and us_case.reference in row
    assert f'href="/cases/{us_case.pk}/#offer-title"' in row and "Not yet" in row

    from sharing.models import Notification
    from sharing.notifications import notify_lookup_hits

    assert notify_lookup_hits() == 1
    assert list(Notification.objects.filter(hit_id=hit_id).values_list(
        "member__username", "kind")) == [("us.liaison", "hit")]
    assert f'href="/liaison/hits/#hit-{hit_id}"' in client.get("/notifications/").content.decode()
    sharing.share_requests_open_from_hit(
        requester=mx_investigator, hit_id=hit_id, scope="summary", justification="ours",
        expires_at=expiry())
    row = client.get("/liaison/hits/").content.decode().split(f'id="hit-{hit_id}"', 1)[1]
    assert "Yes, on" in row.split("</tr>", 1)[0]
    assert f'id="hit-{hit_id}"' not in web(gt_liaison).get("/liaison/hits/").content.decode()
    for member in (us_investigator, us_auditor):
        assert web(member).get("/liaison/hits/").status_code == 403


def test_only_the_longest_matching_navigation_entry_is_current(web, us_liaison):
    html = web(us_liaison).get("/liaison/grants/").content.decode()
    nav = html.split('<nav class="site-nav"', 1)[1].split("</nav>", 1)[0]
    assert nav.count('aria-current="page"') == 1
    assert 'href="/liaison/grants/" aria-current="page"' in nav


def test_a_liaison_offers_from_the_case_page_and_cannot_decide_that_offer(
    web, us_liaison, make_member, mx_liaison, us_case
):
    client = web(us_liaison)
    assert f'action="/cases/{us_case.pk}/offer/"' in client.get(
        f"/cases/{us_case.pk}/").content.decode()
    day = (timezone.now() + dt.timedelta(days=20)).date().isoformat()
    response = client.post(f"/cases/{us_case.pk}/offer/", {
        "recipient_countries": ["MX"], "scope": "summary", "justification": "Joint operation",
        "expires_at": day})
    assert response.status_code == 302
    offer = ShareRequest.objects.get(case=us_case)
    assert offer.requested_by == us_liaison
    assert client.post(f"/liaison/requests/{offer.pk}/decide/",
                       {"decision": "approve"}).status_code == 403
    # A liaison of the recipient country does not offer the owner's case.
    assert web(mx_liaison).post(f"/cases/{us_case.pk}/offer/", {}).status_code == 404
    other = web(make_member("US", "liaison", username="us.liaison.2"))
    assert other.post(f"/liaison/requests/{offer.pk}/decide/",
                      {"decision": "approve"}).status_code == 302
