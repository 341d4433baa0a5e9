"""seed_demo's flow figures: 24 months per country, through the import, labelled, once."""

from django.core.management import call_command

from dashboard.models import FlowFigure, FlowRevision


def test_seed_demo_loads_24_months_of_demonstration_figures_once(db, settings, web):
    settings.DEBUG = True
    call_command("seed_demo", "--quiet")
    revisions = list(FlowRevision.objects.order_by("country").values_list(
        "country", "demonstration", "uploaded_by__username"))
    assert revisions == [("GT", True, "gt.statistics"), ("MX", True, "mx.statistics"),
                         ("US", True, "us.statistics")]
    for country in ("GT", "MX", "US"):
        months = FlowFigure.objects.filter(country=country).values("month").distinct().count()
        assert months == 24
    rows = FlowFigure.objects.count()
    call_command("seed_demo", "--quiet")
    assert FlowRevision.objects.count() == 3 and FlowFigure.objects.count() == rows
    from workinggroup.models import User

    page = web(User.objects.get(username="us.investigator1")).get("/dashboard/")
    assert page.content.decode().count("demonstration data, not official figures") >= 12
