"""Notification mail: the right people, after commit, with a reference and a link only."""

import pytest
from django.core import mail

from sharing import notifications, services

URL = "/api/v1/share-requests/"
SITE = "https://exchange.example.invalid"


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = SITE
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def people(us_liaison, mx_liaison, gt_liaison, us_investigator, mx_investigator, make_member):
    """Liaisons of every country, plus a second MX liaison and a disabled US one."""
    second_mx = make_member("MX", "liaison", username="mx.liaison2")
    gone = make_member("US", "liaison", username="us.liaison.gone")
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    return {"second_mx": second_mx}


def addresses():
    return sorted(a for m in mail.outbox for a in m.to)


def assert_no_case_content(case):
    for message in mail.outbox:
        text = message.subject + message.body
        assert case.title not in text
        assert case.summary not in text
        for subject in case.subjects.all():
            assert subject.full_name not in text
            assert subject.full_name.split()[0] not in text
        assert "Tapachula" not in text  # nor the justification


def test_an_offer_reaches_both_countries_liaisons_after_commit(
    api, us_case, us_investigator, people, later, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api(us_investigator).post(URL, {
            "case": str(us_case.pk), "recipient_country": "MX", "scope": "full",
            "justification": "Same recruiter seen in Tapachula",
            "expires_at": later(30).isoformat(),
        }, format="json")
        assert response.status_code == 201
        assert mail.outbox == []  # nothing before commit
    assert addresses() == [
        "mx.liaison2@example.invalid", "mx.liaison@example.invalid", "us.liaison@example.invalid",
    ]
    # Pages, never the API: the owner's liaisons to their inbox, the recipient's to requests.
    request_id = response.data["id"]
    links = {"us.liaison@example.invalid": f"{SITE}/liaison/#request-{request_id}"}
    for message in mail.outbox:
        assert len(message.to) == 1
        link = links.get(message.to[0], f"{SITE}/requests/#request-{request_id}")
        assert link in message.body
        # The owner's liaisons read the reference; the recipient's only once it is approved.
        owner = message.to[0].startswith("us.")
        assert (us_case.reference in message.subject) is owner
        assert (us_case.reference in message.body) is owner
        if not owner:
            assert "a case offered to your country" in message.subject
    assert_no_case_content(us_case)


def test_a_decision_reaches_the_requester_and_an_approval_the_recipient_liaisons(
    us_case, offer, us_liaison, us_investigator, people, django_capture_on_commit_callbacks
):
    approved, denied = offer(us_case, "MX"), offer(us_case, "GT")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.share_request_approve(share_request=approved, liaison=us_liaison)
    assert addresses() == [
        "mx.liaison2@example.invalid", "mx.liaison@example.invalid",
        "us.investigator@example.invalid",
    ]
    assert all("approved" in m.subject for m in mail.outbox)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.share_request_deny(share_request=denied, liaison=us_liaison, note="Tapachula")
    assert addresses() == ["us.investigator@example.invalid"]
    assert "denied" in mail.outbox[0].subject
    assert_no_case_content(us_case)


def test_a_revocation_reaches_the_recipient(
    us_case, shared, us_liaison, people, django_capture_on_commit_callbacks
):
    share_request = shared(us_case, "MX", "summary")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.share_request_revoke(share_request=share_request, liaison=us_liaison)
    assert addresses() == ["mx.liaison2@example.invalid", "mx.liaison@example.invalid"]
    assert us_case.reference in mail.outbox[0].body
    assert_no_case_content(us_case)


def test_a_partner_asking_from_a_hit_is_not_told_the_reference_when_denied(
    us_case, gt_investigator, gt_liaison, us_liaison, people, later,
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        share_request = services.share_request_open(
            requester=gt_investigator, case=us_case, recipient_country=None, scope="summary",
            justification="Passport hit", expires_at=later(5), from_hit=True,
        )
    by_address = {m.to[0]: m for m in mail.outbox}
    assert us_case.reference in by_address["us.liaison@example.invalid"].body
    assert us_case.reference not in by_address["gt.liaison@example.invalid"].body
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.share_request_deny(share_request=share_request, liaison=us_liaison)
    [message] = mail.outbox
    assert message.to == ["gt.investigator@example.invalid"]
    assert us_case.reference not in message.subject + message.body
    assert str(share_request.pk) in message.body


class BrokenConnection:
    def send_messages(self, messages):
        raise ConnectionRefusedError("SMTP server is down")


def test_a_mail_failure_never_breaks_the_step(
    us_case, offer, us_liaison, people, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(notifications, "get_connection", lambda **kw: BrokenConnection())
    share_request = offer(us_case, "MX")
    with django_capture_on_commit_callbacks(execute=True):
        approved = services.share_request_approve(share_request=share_request, liaison=us_liaison)
    assert approved.status == "approved"
    share_request.refresh_from_db()
    assert share_request.status == "approved"
    assert "share notification approved" in caplog.text


def test_send_counts_its_mails_and_tolerates_a_vanished_request(us_case, offer, us_liaison):
    share_request = offer(us_case, "MX")
    mail.outbox.clear()
    assert notifications.send(notifications.DENIED, str(share_request.pk)) == 1
    assert notifications.send(notifications.OPENED, "00000000-0000-4000-8000-000000000000") == 0


def test_a_broker_outage_sends_the_mail_from_the_web_process(
    us_case, offer, us_liaison, people, monkeypatch, django_capture_on_commit_callbacks
):
    from sharing import tasks

    def down(*args, **kwargs):
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr(tasks.notify_share, "delay", down)
    share_request = offer(us_case, "MX")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.share_request_deny(share_request=share_request, liaison=us_liaison)
    assert addresses() == ["us.investigator@example.invalid"]
