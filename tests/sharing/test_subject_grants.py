"""Named protected subjects open through cases.SubjectGrant rows, written like every other
grant (cases.permissions) and kept in step by the share services; cases never imports sharing."""

import ast
import datetime as dt
import pathlib

from django.utils import timezone
from freezegun import freeze_time

from cases.models import SubjectGrant
from cases.selectors import visible_subjects
from sharing import services


def grants(case):
    return {(str(g.subject_id), g.country_id, g.expires_at)
            for g in SubjectGrant.objects.filter(subject__case=case)}


def test_approval_writes_a_grant_per_named_subject_lasting_as_the_share(
        us_case, shared, subject, mx_investigator):
    victim = subject(us_case, "victim")
    share = shared(us_case, "MX", "full", named=[victim])
    assert grants(us_case) == {(str(victim.pk), "MX", share.expires_at)}
    seen = {s.role for s in visible_subjects(mx_investigator, us_case)}
    assert seen == {"organiser", "victim"}


def test_overlapping_shares_keep_the_latest_expiry_and_revoking_one_keeps_the_other(
        us_case, shared, subject, us_liaison, mx_investigator, later):
    victim = subject(us_case, "victim")
    short = shared(us_case, "MX", "full", named=[victim], days=5)
    long = shared(us_case, "MX", "full_with_files", named=[victim], days=50)
    assert grants(us_case) == {(str(victim.pk), "MX", long.expires_at)}
    services.share_request_revoke(share_request=long, liaison=us_liaison)
    assert grants(us_case) == {(str(victim.pk), "MX", short.expires_at)}
    services.share_request_revoke(share_request=short, liaison=us_liaison)
    assert grants(us_case) == set()
    assert {s.role for s in visible_subjects(mx_investigator, us_case)} == set()


def test_expiry_removes_the_grant_and_the_gate_ignores_it_before_the_task(
        us_case, shared, subject, mx_investigator):
    victim = subject(us_case, "victim")
    share = shared(us_case, "MX", "full", named=[victim], days=1)
    with freeze_time(share.expires_at + dt.timedelta(seconds=1)):
        assert SubjectGrant.objects.filter(subject=victim).exists()
        assert list(visible_subjects(mx_investigator, us_case)) == []  # expired: no row counts
        assert services.share_expire_due() == 1
    assert grants(us_case) == set()


def test_a_grant_to_one_country_opens_nothing_to_another(us_case, shared, subject,
                                                         gt_investigator):
    victim = subject(us_case, "victim")
    shared(us_case, "MX", "full", named=[victim])
    shared(us_case, "GT", "full")
    assert {s.role for s in visible_subjects(gt_investigator, us_case)} == {"organiser"}


def test_the_cases_app_imports_nothing_from_sharing():
    root = pathlib.Path(__file__).resolve().parents[2] / "cases"
    offenders = []
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] == "sharing"]
    assert offenders == []


def test_the_backfill_migration_writes_the_rows_active_shares_imply(
        us_case, shared, subject, offer):
    """Rows written before SubjectGrant existed: the migration's function rebuilds them."""
    import importlib

    from django.apps import apps

    victim, witness = subject(us_case, "victim"), subject(us_case, "witness")
    share = shared(us_case, "MX", "full", named=[victim, witness])
    offer(us_case, "GT", "full", named=[victim])  # pending: grants nothing
    SubjectGrant.objects.all().delete()
    migration = importlib.import_module("sharing.migrations.0004_subject_grants_backfill")
    migration.backfill(apps, None)
    assert grants(us_case) == {(str(victim.pk), "MX", share.expires_at),
                               (str(witness.pk), "MX", share.expires_at)}
    assert timezone.now() < share.expires_at
