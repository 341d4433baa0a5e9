"""Flow figures and the revisions that brought them: each country's own published aggregates."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dashboard.codes import BorderSegment, Demographic, EventType
from workinggroup.models import Country


class FlowRevision(models.Model):
    """One accepted CSV file: who sent it, when, how many rows, its SHA-256, the months it
    replaced. Revisions are never deleted, so the history of every country's figures stays."""

    country = models.ForeignKey(Country, on_delete=models.PROTECT, related_name="+")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(default=timezone.now)
    filename = models.CharField(max_length=200, blank=True)
    rows = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    first_month = models.DateField()
    last_month = models.DateField()
    months = models.JSONField(default=list, help_text=_("The months (YYYY-MM) it replaced."))
    demonstration = models.BooleanField(
        default=False, help_text=_("Synthetic figures loaded by seed_demo, not official ones.")
    )

    class Meta:
        ordering = ["-uploaded_at", "-id"]
        verbose_name = _("flow figures revision")
        permissions = [("import_flows", "Can import the country's flow figures")]
        indexes = [models.Index(fields=["country", "-uploaded_at"], name="flowrev_country_recent")]

    def __str__(self):
        return f"{self.country_id} revision {self.pk} ({self.rows} rows)"


class FlowFigure(models.Model):
    """A count of events (not people) in one month, as the reporting country submitted it."""

    month = models.DateField(help_text=_("The first day of the month."))
    country = models.ForeignKey(Country, on_delete=models.PROTECT, related_name="+",
                                help_text=_("The reporting country."))
    border_segment = models.CharField(max_length=8, choices=BorderSegment.choices)
    location = models.CharField(max_length=100, blank=True)
    citizenship = models.CharField(max_length=5)
    demographic = models.CharField(max_length=24, choices=Demographic.choices)
    event_type = models.CharField(max_length=16, choices=EventType.choices)
    count = models.PositiveIntegerField()
    revision = models.ForeignKey(FlowRevision, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("flow figure")
        constraints = [
            models.UniqueConstraint(
                fields=["country", "month", "border_segment", "location", "citizenship",
                        "demographic", "event_type"],
                name="one_flow_figure_per_key",
            ),
            models.CheckConstraint(condition=models.Q(count__gte=0),
                                   name="flow_count_not_negative"),
        ]
        indexes = [models.Index(fields=["month", "country"], name="flow_month_country")]

    def __str__(self):
        return f"{self.country_id} {self.month:%Y-%m} {self.event_type} {self.count}"
