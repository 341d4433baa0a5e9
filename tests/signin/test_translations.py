"""Spanish beside English: every page string translated, the compiled catalogue current."""

import ast
import gettext
import re
from pathlib import Path

from django.conf import settings
from django.test import Client

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "locale" / "es" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")


def po_entries() -> dict[str, str]:
    """msgid -> msgstr of the Spanish catalogue (header left out); fuzzy entries fail."""
    entries = {}
    for block in PO.read_text(encoding="utf-8").split("\n\n")[1:]:
        assert "#, fuzzy" not in block, block
        # Plural entries (msgid_plural, msgstr[N]) are checked by their last form.
        parts = re.split(r"\nmsgid_plural |\nmsgstr(?:\[\d\])? ", block.split("msgid ", 1)[1])
        msgid, msgstr = parts[0], parts[-1] if len(parts) == 2 else parts[2]

        def text(part):
            return "".join(ast.literal_eval(s) for s in re.findall(r'"(?:[^"\\]|\\.)*"', part))

        # A message with a context (pgettext) is keyed as the .mo keys it: context EOT msgid.
        context = re.search(r'^msgctxt ((?:"(?:[^"\\]|\\.)*"\n?)+)', block, re.M)
        key = text(msgid) if context is None else f"{text(context.group(1))}\x04{text(msgid)}"
        entries[key] = text(msgstr)
    return entries


def test_every_message_is_translated_and_the_mo_is_current():
    entries = po_entries()
    assert len(entries) > 80
    with MO.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    for msgid, msgstr in entries.items():
        assert msgstr, f"untranslated: {msgid!r}"
        assert compiled.gettext(msgid) == msgstr, f"stale .mo (run make messages): {msgid!r}"


def test_every_template_string_is_in_the_catalogue():
    entries = po_entries()
    literal = re.compile(r"""{%\s*translate\s+(["'])(.+?)\1""")
    for template in (ROOT / "templates").rglob("*.html"):
        for _, text in literal.findall(template.read_text(encoding="utf-8")):
            assert text in entries, f"{template.name}: {text!r} (run makemessages)"


def test_pages_speak_spanish_when_asked(db):
    response = Client().get("/signin/", HTTP_ACCEPT_LANGUAGE="es")
    html = response.content.decode()
    assert '<html lang="es">' in html
    assert "Iniciar sesión" in html and "Contraseña" in html


def test_the_language_switcher_sets_the_language(db):
    client = Client()
    assert "Sign in" in client.get("/signin/").content.decode()
    response = client.post("/i18n/setlang/", {"language": "es", "next": "/signin/"})
    assert response["Location"] == "/signin/"
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "es"
    assert "Iniciar sesión" in client.get("/signin/").content.decode()


def test_a_member_signs_in_to_the_language_they_chose(db, us_investigator, sign_in):
    """The switcher's choice is kept on the member (User.language); the next sign-in, in a
    browser that asks for English, comes back in it. A member who never chose gets the
    browser's language, as before."""
    us_investigator.language = "es"
    us_investigator.save(update_fields=["language"])
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    sign_in(client, us_investigator, HTTP_ACCEPT_LANGUAGE="en")
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "es"
    assert '<html lang="es">' in client.get("/account/").content.decode()

    us_investigator.language = ""
    us_investigator.save(update_fields=["language"])
    fresh = Client(HTTP_ACCEPT_LANGUAGE="en")
    sign_in(fresh, us_investigator, HTTP_ACCEPT_LANGUAGE="en")
    assert settings.LANGUAGE_COOKIE_NAME not in fresh.cookies
    assert '<html lang="en">' in fresh.get("/account/").content.decode()
