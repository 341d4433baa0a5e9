"""Owner liaisons hear of every partner hit on their cases: the unnotified hit rows are an
outbox that beat sweeps, so a lookup never waits on the broker and no notification is lost."""

import pytest
from django.core.mail import EmailMessage

from sharing.models import LookupHit
from sharing.tasks import notify_lookup_hits
from workinggroup.celery import app

LOOKUP = "/api/v1/lookup/"
PASSPORT = {"identifier_type": "passport", "value": "G12345678"}


@pytest.fixture
def mx_case(make_case, make_member):
    from cases.services import subject_add

    case = make_case("MX", title="Red de Tapachula")
    subject_add(case=case, actor=make_member("MX", "investigator"), full_name="Someone",
                role="organiser",
                identifiers=[{"identifier_type": "passport", "value": "G1234 5678"}])
    return case


@pytest.fixture
def with_worker(settings, monkeypatch):
    """Production: a broker and a worker, so nothing runs in the web process after commit."""
    settings.BROKER_CONFIGURED = True
    app.conf.task_always_eager = False  # the suite's _eager_tasks fixture restores it
    # The audit drain request after each commit is not what these tests are about.
    monkeypatch.setattr("audit.recording.trigger_drain", lambda: None)


def test_with_a_worker_the_lookup_queues_nothing_and_the_sweep_tells_the_owners_once(
        db, with_worker, api, us_investigator, mx_liaison, gt_liaison, mx_case, mailoutbox,
        django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert api(us_investigator).post(LOOKUP, PASSPORT, format="json").status_code == 200
    hit = LookupHit.objects.get()
    assert mailoutbox == [] and hit.notified_at is None

    assert notify_lookup_hits.apply().result == 1  # beat's sweep, in a worker
    [mail] = mailoutbox
    assert mail.to == [mx_liaison.email]
    assert mail.body.startswith(
        f"A lookup by us.investigator (US) matched an identifier in 1 of your country's "
        f"cases: {mx_case.reference}.")
    assert mx_case.title not in mail.body
    hit.refresh_from_db()
    assert hit.notified_at is not None

    assert notify_lookup_hits.apply().result == 0
    assert len(mailoutbox) == 1


def test_a_failed_mail_leaves_the_hit_for_the_next_sweep(
        db, with_worker, api, us_investigator, mx_liaison, mx_case, mailoutbox, monkeypatch):
    api(us_investigator).post(LOOKUP, PASSPORT, format="json")

    def smtp_down(self, fail_silently=False):
        raise ConnectionRefusedError("smtp down")

    with monkeypatch.context() as patched:
        patched.setattr(EmailMessage, "send", smtp_down)
        assert notify_lookup_hits.apply().result == 0
    assert LookupHit.objects.get().notified_at is None

    assert notify_lookup_hits.apply().result == 1
    assert [mail.to for mail in mailoutbox] == [[mx_liaison.email]]


def test_without_a_worker_the_owners_are_told_on_commit(
        db, settings, api, us_investigator, mx_liaison, mx_case, mailoutbox,
        django_capture_on_commit_callbacks):
    settings.BROKER_CONFIGURED = False  # the development box: eager tasks, no beat
    with django_capture_on_commit_callbacks(execute=True):
        api(us_investigator).post(LOOKUP, PASSPORT, format="json")
    assert [mail.to for mail in mailoutbox] == [[mx_liaison.email]]
    assert LookupHit.objects.get().notified_at is not None


def test_a_miss_and_an_own_match_tell_no_one(
        db, api, us_investigator, mx_investigator, mx_liaison, us_liaison, mx_case, mailoutbox,
        django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        api(us_investigator).post(LOOKUP, {"identifier_type": "passport", "value": "Z1"},
                                  format="json")
        api(mx_investigator).post(LOOKUP, PASSPORT, format="json")
    assert mailoutbox == [] and not LookupHit.objects.exists()


def test_beat_sweeps_the_hits(settings):
    sweep = settings.CELERY_BEAT_SCHEDULE["sharing-notify-lookup-hits"]
    assert sweep == {"task": "sharing.notify_lookup_hits", "schedule": 10.0}


def _other_connection(postgres):
    """A second session on the test database, as another web or worker process would be."""
    import psycopg

    params = postgres.get_connection_params()
    params.pop("cursor_factory", None)
    return psycopg.connect(**params, autocommit=True)


def test_one_sweep_runs_at_a_time(postgres, with_worker, api, us_investigator, mx_liaison,
                                  mx_case, mailoutbox):
    from sharing.notifications import NOTIFY_LOCK_KEY

    api(us_investigator).post(LOOKUP, PASSPORT, format="json")
    with _other_connection(postgres) as other:
        other.execute("SELECT pg_advisory_lock(%s)", [NOTIFY_LOCK_KEY])  # a sweep elsewhere
        assert notify_lookup_hits.apply().result == 0
        assert mailoutbox == [] and LookupHit.objects.get().notified_at is None
        other.execute("SELECT pg_advisory_unlock(%s)", [NOTIFY_LOCK_KEY])
    assert notify_lookup_hits.apply().result == 1
    assert [mail.to for mail in mailoutbox] == [[mx_liaison.email]]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_hit_can_be_claimed_while_the_sweep_waits_on_the_mail_server(
        postgres, with_worker, api, us_investigator, mx_liaison, mx_case, mailoutbox,
        monkeypatch):
    hit_id = api(us_investigator).post(LOOKUP, PASSPORT, format="json").json()["hits"][0][
        "hit_id"]
    locked_while_mailing = []
    send = EmailMessage.send

    def slow_smtp(self, fail_silently=False):
        with _other_connection(postgres) as other:  # the member's request, meanwhile
            row = other.execute(
                "SELECT id FROM sharing_lookuphit WHERE id = %s FOR UPDATE NOWAIT", [hit_id]
            ).fetchone()
            locked_while_mailing.append(str(row[0]))
        return send(self, fail_silently)

    monkeypatch.setattr(EmailMessage, "send", slow_smtp)
    assert notify_lookup_hits.apply().result == 1
    assert locked_while_mailing == [hit_id]  # NOWAIT would have raised on a locked row
    assert [mail.to for mail in mailoutbox] == [[mx_liaison.email]]
