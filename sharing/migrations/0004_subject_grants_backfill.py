"""Protected subjects named by active shares now open through cases.SubjectGrant rows (the
gate no longer asks sharing); write the rows the active shares already imply."""

from django.db import migrations
from django.utils import timezone


def backfill(apps, schema_editor):
    NamedSubject = apps.get_model("sharing", "NamedSubject")
    SubjectGrant = apps.get_model("cases", "SubjectGrant")
    latest = {}
    rows = NamedSubject.objects.filter(
        share_request__status="approved",
        share_request__expires_at__gt=timezone.now(),
        share_request__scope__in=["full", "full_with_files"],
    ).values_list("subject_id", "share_request__recipient_country_id",
                  "share_request__expires_at")
    for subject_id, country_id, expires_at in rows:
        key = (subject_id, country_id)
        latest[key] = max(latest.get(key, expires_at), expires_at)
    SubjectGrant.objects.bulk_create(
        [SubjectGrant(subject_id=s, country_id=c, expires_at=e) for (s, c), e in latest.items()],
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("sharing", "0003_lookup_hit_rows"),
        ("cases", "0004_subject_grants"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
