"""Mails speak each reader's language: no request is there to ask, so the member's own."""

import pytest
from django.core import mail

from sharing import services


@pytest.fixture(autouse=True)
def _mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def test_share_mails_speak_each_readers_language(
        us_case, us_investigator, us_liaison, mx_liaison, later,
        django_capture_on_commit_callbacks):
    mx_liaison.language = "es"
    mx_liaison.save(update_fields=["language"])
    with django_capture_on_commit_callbacks(execute=True):
        services.share_request_open(
            requester=us_investigator, case=us_case, recipient_country=mx_liaison.country,
            scope="full", justification="Same recruiter", expires_at=later(30),
        )
    by_reader = {message.to[0]: message for message in mail.outbox}
    spanish = by_reader[mx_liaison.email]
    # An offer names the case to the recipient only once approved (discloses_case_to).
    assert spanish.subject == (
        "[Intercambio del Grupo de Trabajo] Solicitud de intercambio sobre un caso ofrecido "
        "a su país")
    assert us_case.reference not in spanish.body
    assert "abrió una solicitud de intercambio" in spanish.body
    assert "Por diseño, este mensaje no contiene nada del caso." in spanish.body
    english = by_reader[us_liaison.email]
    assert english.subject == (
        f"[Working Group Exchange] Share request for case {us_case.reference}")
    assert "This message carries no case content by design." in english.body


def test_a_hit_mail_goes_out_once_per_language_its_readers_speak(mx_investigator):
    from types import SimpleNamespace

    from sharing.notifications import _mail_hit

    hit = SimpleNamespace(requested_by=mx_investigator)
    sent = _mail_hit(hit, ["US-2026-000001"], [
        ("a@example.invalid", "es"), ("b@example.invalid", ""), ("c@example.invalid", "en")])
    assert sent is True
    by_subject = {m.subject: sorted(m.to) for m in mail.outbox}
    assert by_subject == {
        "[Working Group Exchange] Partner lookup matched your cases":
            ["b@example.invalid", "c@example.invalid"],
        "[Intercambio del Grupo de Trabajo] Una consulta de un socio coincidió con sus casos":
            ["a@example.invalid"],
    }
    spanish = next(m for m in mail.outbox if m.to == ["a@example.invalid"])
    assert f"Una consulta de {mx_investigator.username} (MX)" in spanish.body
