# placeholder: switch to cases.services (case_create, subject_add) when the cases branch lands
import itertools

import pytest
from django.contrib.auth.models import Permission

from cases.identifiers import blind_index, normalise
from cases.models import Case, CaseGroupObjectPermission, Identifier, Subject
from workinggroup.keyring import get_keyring
from workinggroup.models import Country

_numbers = itertools.count(1)
OWNER_CODENAMES = ["view_case_summary", "view_case_full", "view_case_files", "change_case",
                   "share_case"]


@pytest.fixture
def owned_case(db):
    def build(country, title="Case", reference_hint=""):
        n = next(_numbers)
        owner = Country.objects.get(code=country)
        case = Case.objects.create(owner_country=owner, year=2026, number=n,
                                   reference=f"{country}-2026-{n:06d}", title=title,
                                   case_type="trafficking")
        for perm in Permission.objects.filter(codename__in=OWNER_CODENAMES,
                                              content_type__app_label="cases"):
            CaseGroupObjectPermission.objects.create(group=owner.group, permission=perm,
                                                     content_object=case)
        return case

    def add_identifier(case, identifier_type, value):
        subject = Subject.objects.create(case=case, full_name="Someone", role="organiser")
        normalised = normalise(identifier_type, value, default_region=case.owner_country_id)
        key_id, key = get_keyring().primary_lookup_key()
        return Identifier.objects.create(
            subject=subject, case=case, identifier_type=identifier_type, value=value,
            normalised=normalised, blind_index=blind_index(key, identifier_type, normalised),
            lookup_key_id=key_id)

    build.add_identifier = add_identifier
    return build
