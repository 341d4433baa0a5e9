"""Lookup hits carry their identifier type and matched case ids; the ledger keeps who and when.

A hit no longer points at a `Lookup` row (with Redis there is none) and its cases are a JSON
list written in the hit's own INSERT instead of many-to-many rows. Hits made before this
migration were notified by the per-hit task, so they count as notified.
"""

from django.db import migrations, models


def copy_hit_details(apps, schema_editor):
    LookupHit = apps.get_model("sharing", "LookupHit")
    for hit in LookupHit.objects.select_related("lookup").iterator():
        hit.identifier_type = hit.lookup.identifier_type
        hit.case_ids = sorted(str(pk) for pk in hit.cases.values_list("pk", flat=True))
        hit.notified_at = hit.created_at
        hit.save(update_fields=["identifier_type", "case_ids", "notified_at"])


class Migration(migrations.Migration):

    dependencies = [
        ("sharing", "0002_lookup"),
    ]

    operations = [
        migrations.AddField(
            model_name="lookuphit",
            name="identifier_type",
            field=models.CharField(
                choices=[("passport", "passport"), ("national_id", "national_id"),
                         ("phone", "phone"), ("email", "email"),
                         ("vehicle_plate", "vehicle_plate"), ("bank_account", "bank_account"),
                         ("name_dob", "name_dob")],
                default="", max_length=16,
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="lookuphit",
            name="case_ids",
            field=models.JSONField(default=list),
        ),
        migrations.AddField(
            model_name="lookuphit",
            name="notified_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(copy_hit_details),  # one way: the old ledger fields are dropped
        migrations.RemoveField(model_name="lookuphit", name="lookup"),
        migrations.RemoveField(model_name="lookuphit", name="cases"),
        migrations.RemoveField(model_name="lookup", name="identifier_type"),
        migrations.RemoveField(model_name="lookup", name="partner_hits"),
        migrations.RemoveField(model_name="lookup", name="requester_country"),
        migrations.AddIndex(
            model_name="lookuphit",
            index=models.Index(
                condition=models.Q(notified_at__isnull=True), fields=["created_at"],
                name="lookuphit_to_notify",
            ),
        ),
    ]
