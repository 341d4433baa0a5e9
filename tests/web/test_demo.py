"""seed_demo's demo cases: made through the services, each country's, idempotent."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from cases.models import Attachment, Case, Identifier, Subject
from sharing.models import ShareRequest
from workinggroup.models import User


def test_demo_cases_per_country_with_subjects_files_and_shares(db, settings):
    settings.DEBUG = True
    call_command("seed_demo", "--quiet")
    for code in ("US", "GT", "MX"):
        cases = Case.objects.filter(owner_country=code, title__endswith="(demo)")
        assert cases.count() == 3
        assert Subject.objects.filter(case__in=cases, role="victim").count() == 1
        assert Identifier.objects.filter(case__in=cases).count() >= 4
        assert Attachment.objects.filter(case__in=cases).count() == 1
        shares = ShareRequest.objects.filter(case__in=cases)
        assert sorted(shares.values_list("status", flat=True)) == [
            "approved", "pending", "pending", "pending"]
        # The H2 case is offered to both partners, each request needing two liaisons.
        offered = shares.filter(case__handling_code="H2")
        assert sorted(offered.values_list("recipient_country", flat=True)) == sorted(
            {"US", "GT", "MX"} - {code})
        assert set(offered.values_list("approvals_required", flat=True)) == {2}
        assert User.objects.filter(username=f"{code.lower()}.liaison2",
                                   groups__name="role:liaison", country=code).exists()
    counts = (Case.objects.count(), Subject.objects.count(), Attachment.objects.count(),
              ShareRequest.objects.count())
    call_command("seed_demo", "--quiet")
    assert counts == (Case.objects.count(), Subject.objects.count(),
                      Attachment.objects.count(), ShareRequest.objects.count())


def test_demo_data_is_refused_in_production(db, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError):
        call_command("seed_demo", "--quiet")
    assert not Case.objects.exists()
