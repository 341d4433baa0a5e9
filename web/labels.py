"""Names the pages show for closed lists that have no translated label of their own.

Identifier types are a pure-Python enum (cases.identifiers has no Django), and upload
refusals carry a reason code; their words for people live here, in both languages.
"""

from __future__ import annotations

from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from cases.identifiers import IdentifierType

IDENTIFIER_TYPE_LABELS = {
    IdentifierType.PASSPORT: _("Passport"),
    IdentifierType.NATIONAL_ID: _("National ID"),
    IdentifierType.PHONE: _("Phone"),
    IdentifierType.EMAIL: _("E-mail"),
    IdentifierType.VEHICLE_PLATE: _("Vehicle plate"),
    IdentifierType.BANK_ACCOUNT: _("Bank account"),
    IdentifierType.NAME_DOB: _("Name and date of birth"),
}

# cases.upload.UploadRefused.reason -> what the member reads (the status stays the same).
UPLOAD_REFUSALS = {
    "too_large": _("The file is larger than the limit of %(limit)s."),
    "empty": _("The file is empty. Choose a file that has content."),
    "no_file": _("Choose a file to upload."),
    "several_files": _("Send exactly one file per upload."),
    "malformed": _("The upload was interrupted or malformed. Try again."),
    "not_multipart": _("The upload was interrupted or malformed. Try again."),
    "truncated": _("The upload was interrupted or malformed. Try again."),
    "executable": _("Programs are not accepted as evidence."),
    "not_allowed": _("This type of file is not accepted as evidence."),
    "name_mismatch": _("The file's content does not match its name's extension."),
    "key_retired": _("The encryption key changed during the upload. Send the file again."),
}
UPLOAD_REFUSED_OTHER = _("The file was refused and nothing was stored.")


def country_name_of(code: str) -> str:
    """The name of the country with this code in the member's language (the code when the
    code names no country), for messages built from a foreign key's code."""
    from workinggroup.models import Country

    return country_name(Country.objects.filter(code=code).first()) or code


def country_names_of(codes) -> str:
    """"Guatemala, México": several countries' names, in the order of their codes."""
    return ", ".join(country_name_of(code) for code in sorted(codes))


def country_name(country) -> str:
    """A country's name in the member's language (the code when it has none)."""
    if country is None:
        return ""
    name = country.name_es if (get_language() or "").startswith("es") else country.name_en
    return name or country.code
