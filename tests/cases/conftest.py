"""Case factories, and a module-wide world of members and cases built once per module.

`module_world` builds its rows inside a transaction that stays open for the module and is
rolled back at its end; each test runs in a savepoint inside it (pytest-django supports
higher-scoped transactions), so a matrix of many tests costs one set-up.
"""

import pytest
from django.db import transaction

from cases import permissions, services
from cases.models import SubjectRole
from workinggroup import members
from workinggroup.models import Country, User

COUNTRIES = ("US", "GT", "MX")
ROLES = ("investigator", "liaison", "auditor")


def new_case(actor, **fields):
    """A case through the service, with plain defaults."""
    fields.setdefault("title", f"Network {actor.country_id}")
    fields.setdefault("case_type", "trafficking")
    fields.setdefault("summary", "Recruitment through fake job offers.")
    return services.case_create(actor=actor, **fields)


def new_subject(case, actor, **fields):
    fields.setdefault("full_name", "Juan Pérez")
    fields.setdefault("role", SubjectRole.ORGANISER)
    return services.subject_add(case=case, actor=actor, **fields)


@pytest.fixture
def case_factory():
    return new_case


@pytest.fixture
def subject_factory():
    return new_subject


class World:
    """Members of every role in every country, an administrator, and cases of each country."""

    def __init__(self, password_hash):
        self.people = {}
        for cc in COUNTRIES:
            for role in ROLES:
                self.people[f"{cc.lower()}_{role}"] = self._member(cc, role, password_hash)
        self.people["administrator"] = self._member(None, "administrator", password_hash)
        self.cases = {}
        for cc in COUNTRIES:
            owner = self.people[f"{cc.lower()}_investigator"]
            case = new_case(owner, title=f"{cc} network", summary=f"{cc} summary")
            new_subject(case, owner, full_name="Organiser Uno", role=SubjectRole.ORGANISER)
            new_subject(case, owner, full_name="Victima Dos", role=SubjectRole.VICTIM)
            self.cases[cc] = case
        # Shares as the sharing app will make them: US -> MX summary, US -> GT full.
        us = self.people["us_investigator"]
        self.cases["US>MX"] = new_case(us, title="shared with MX", summary="s")
        permissions.set_country_grants(self.cases["US>MX"], "MX", permissions.SCOPES["summary"])
        self.cases["US>GT"] = shared = new_case(us, title="shared with GT", summary="s")
        new_subject(shared, us, full_name="Organiser Tres", role=SubjectRole.ORGANISER)
        new_subject(shared, us, full_name="Testigo Cuatro", role=SubjectRole.WITNESS)
        permissions.set_country_grants(shared, "GT", permissions.SCOPES["full"])

    @staticmethod
    def _member(country, role, password_hash):
        username = f"{(country or 'admin').lower()}.{role}.w"
        user = User.objects.create(
            username=username,
            password=password_hash,
            country=Country.objects.get(code=country) if country else None,
        )
        members.sync_member_groups(user, [role])
        return user

    def scope_of(self, person, case) -> str | None:
        """What the person's country holds on the case: owner, a scope, or None."""
        user = self.people[person]
        if user.country_id is None:
            return None
        if case.owner_country_id == user.country_id:
            return "owner"
        return permissions.scope_held(permissions.country_perms(case, user.country_id))


@pytest.fixture(scope="module")
def module_world(django_db_setup, django_db_blocker, persona_password_hash):
    with django_db_blocker.unblock():
        with transaction.atomic():
            world = World(persona_password_hash)
            yield world
            transaction.set_rollback(True)
