"""The founding partners of the working group, each with its members' group."""

from django.db import migrations

FOUNDERS = [
    ("GT", "Guatemala", "Guatemala"),
    ("MX", "Mexico", "México"),
    ("US", "United States", "Estados Unidos"),
]


def add_founders(apps, schema_editor):
    Country = apps.get_model("workinggroup", "Country")
    Group = apps.get_model("auth", "Group")
    for code, name_en, name_es in FOUNDERS:
        group, _ = Group.objects.get_or_create(name=f"country:{code}")
        Country.objects.get_or_create(
            code=code, defaults={"name_en": name_en, "name_es": name_es, "group": group}
        )


class Migration(migrations.Migration):
    dependencies = [("workinggroup", "0001_initial")]
    operations = [migrations.RunPython(add_founders, migrations.RunPython.noop)]
