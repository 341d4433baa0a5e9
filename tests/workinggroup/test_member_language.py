"""A member's language: set by the switcher while signed in (tests/sharing/test_mail_language.py:
the mails that speak it)."""


from audit.models import AuditEntry

SETLANG = "/i18n/setlang/"


def test_the_switcher_keeps_a_signed_in_members_choice_and_audits_it(
        web, us_investigator, drain):
    response = web(us_investigator).post(SETLANG, {"language": "es", "next": "/cases/"})
    assert response.status_code == 302 and response["Location"] == "/cases/"
    us_investigator.refresh_from_db()
    assert us_investigator.language == "es"
    drain()
    entry = AuditEntry.objects.get(action="member.update", target_id=str(us_investigator.pk))
    assert (entry.actor, entry.details) == (
        us_investigator.username, {"fields": ["language"], "language": "es"})


def test_choosing_the_same_language_again_records_nothing_new(web, us_investigator, drain):
    client = web(us_investigator)
    client.post(SETLANG, {"language": "es"})
    client.post(SETLANG, {"language": "es"})
    drain()
    assert AuditEntry.objects.filter(action="member.update").count() == 1


def test_the_switcher_before_sign_in_changes_no_member(client, us_investigator):
    response = client.post(SETLANG, {"language": "es", "next": "/signin/"})
    assert response.status_code == 302
    us_investigator.refresh_from_db()
    assert us_investigator.language == ""


def test_an_unknown_language_is_not_kept(web, us_investigator):
    web(us_investigator).post(SETLANG, {"language": "xx"})
    us_investigator.refresh_from_db()
    assert us_investigator.language == ""
