"""Aggregate reads for the dashboard: numbers only, never a row, each through the disclosure
rule (dashboard.disclosure.disclose) before anything else sees it.

Flow figures are each country's own published aggregates. The group's own figures are
counts over every case, share request and lookup, which no row-by-row gate would return:
GROUP BY queries here read the tables directly and hand back only what `disclose` allows
the viewer (docs/dashboard.md). Nothing here names a case, a subject or an identifier.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from statistics import median

from django.db import connection
from django.db.models import Aggregate, Count, DurationField, ExpressionWrapper, F, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from audit.models import AuditEntry
from cases.models import Case, CaseStatus, CaseType
from dashboard.codes import BorderSegment, Demographic, citizenship_name
from dashboard.disclosure import FLOWS, MEDIAN, OPERATIONAL, Axis, RawTable, Table, disclose
from dashboard.models import FlowFigure, FlowRevision
from sharing.models import ShareRequest, ShareStatus
from workinggroup.models import Country

EVENTS_UNIT = _("events, not people")
DEMONSTRATION_LABEL = _("demonstration data, not official figures")
TOP_CITIZENSHIPS = 10
APPROVED_ONCE = (ShareStatus.APPROVED, ShareStatus.REVOKED, ShareStatus.EXPIRED)


@dataclass(frozen=True)
class FlowFilter:
    """The page's filters (all in the URL); an empty list means every value."""

    month_from: dt.date
    month_to: dt.date
    countries: tuple = ()
    segments: tuple = ()
    citizenships: tuple = ()
    demographics: tuple = ()
    event_types: tuple = ()
    publication: bool = False

    def months(self) -> list[dt.date]:
        out, month = [], self.month_from
        while month <= self.month_to:
            out.append(month)
            month = (month + dt.timedelta(days=32)).replace(day=1)
        return out

    def period(self) -> tuple[dt.datetime, dt.datetime]:
        """The filter's months as an aware [start, end) interval in UTC."""
        end = (self.month_to + dt.timedelta(days=32)).replace(day=1)
        return (dt.datetime.combine(self.month_from, dt.time(), dt.UTC),
                dt.datetime.combine(end, dt.time(), dt.UTC))


@dataclass
class AsOf:
    """A country's latest revision: when, and whether it is demonstration data."""

    country: str
    uploaded_at: dt.datetime | None
    demonstration: bool = False


@dataclass
class Dashboard:
    """Every disclosed table of the page, plus each country's "as of"."""

    tables: list[Table]
    as_of: list[AsOf] = field(default_factory=list)

    @property
    def demonstration(self) -> bool:
        return any(a.demonstration for a in self.as_of)

    def table(self, slug: str) -> Table:
        return next(t for t in self.tables if t.slug == slug)


def default_filter(today: dt.date) -> FlowFilter:
    """The 24 months up to the current one."""
    month_to = today.replace(day=1)
    year, month = divmod(month_to.year * 12 + month_to.month - 1 - 23, 12)
    return FlowFilter(month_from=dt.date(year, month + 1, 1), month_to=month_to)


def _countries() -> list[str]:
    return list(Country.objects.order_by("code").values_list("code", flat=True))


def _country_axes(codes, *, owned: bool) -> list[Axis]:
    return [Axis(c, c, frozenset({c}) if owned else frozenset()) for c in codes]


def _month_axes(months, about=frozenset()) -> list[Axis]:
    return [Axis(m.strftime("%Y-%m"), date_format(m, "M Y"), about) for m in months]


def as_of() -> list[AsOf]:
    """Each country's latest revision (demonstration or not); None when it sent none yet."""
    latest = {}
    for country, uploaded_at, demo in (FlowRevision.objects.order_by("country", "-uploaded_at")
                                       .values_list("country", "uploaded_at", "demonstration")):
        latest.setdefault(country, AsOf(country, uploaded_at, demo))
    return [latest.get(code, AsOf(code, None)) for code in _countries()]


def _flows(f: FlowFilter):
    lo, hi = f.month_from, f.month_to
    qs = FlowFigure.objects.filter(month__gte=lo, month__lte=hi)
    for name, values in (("country__in", f.countries), ("border_segment__in", f.segments),
                         ("citizenship__in", f.citizenships),
                         ("demographic__in", f.demographics), ("event_type__in", f.event_types)):
        if values:
            qs = qs.filter(**{name: values})
    return qs


def _grouped(qs, *keys, measure=None) -> dict:
    measure = measure or Sum("count")
    return {tuple(row[:-1]) if len(keys) > 1 else row[0]: row[-1]
            for row in qs.values(*keys).annotate(n=measure).values_list(*keys, "n").order_by()}


def flow_tables(f: FlowFilter, countries: list[str]) -> list[RawTable]:
    """Events per month by reporting country, by border segment, top citizenships, demography."""
    reporting = [c for c in countries if not f.countries or c in f.countries]
    series = _country_axes(reporting, owned=False)
    by_month = _grouped(_flows(f), "month", "country")
    months = f.months()
    per_month = RawTable(
        "flows-month", _("Events per month by reporting country"),
        _("Migration-flow events each country reported per month."), EVENTS_UNIT, FLOWS,
        _month_axes(months), series,
        {(m.strftime("%Y-%m"), c): n for (m, c), n in by_month.items()})
    by_segment = _grouped(_flows(f), "border_segment", "country")
    segments = [s for s in BorderSegment if not f.segments or s.value in f.segments]
    per_segment = RawTable(
        "flows-segment", _("Events by border segment"),
        _("Migration-flow events on each border segment, by reporting country."), EVENTS_UNIT,
        FLOWS, [Axis(s.value, str(s.label)) for s in segments], series,
        {(s, c): n for (s, c), n in by_segment.items()})
    by_citizenship = sorted(_grouped(_flows(f), "citizenship").items(), key=lambda kv: (-kv[1],
                                                                                        kv[0]))
    top, rest = by_citizenship[:TOP_CITIZENSHIPS], by_citizenship[TOP_CITIZENSHIPS:]
    rows = [Axis(code, citizenship_name(code)) for code, _n in top]
    values = {(code, "events"): n for code, n in top}
    if rest:
        rows.append(Axis("rest", str(_("All other citizenships"))))
        values[("rest", "events")] = sum(n for _c, n in rest)
    per_citizenship = RawTable(
        "flows-citizenship", _("Top citizenships"),
        _("The citizenships with the most migration-flow events, the rest together."),
        EVENTS_UNIT, FLOWS, rows, [Axis("events", str(_("Events")))], values)
    by_demographic = _grouped(_flows(f), "demographic")
    demographics = [d for d in Demographic if not f.demographics or d.value in f.demographics]
    per_demographic = RawTable(
        "flows-demographic", _("Demographic split"),
        _("Migration-flow events by demographic group."), EVENTS_UNIT, FLOWS,
        [Axis(d.value, str(d.label)) for d in demographics], [Axis("events", str(_("Events")))],
        {(d, "events"): n for d, n in by_demographic.items()})
    return [per_month, per_segment, per_citizenship, per_demographic]


class _Median(Aggregate):
    """PostgreSQL's percentile_cont over an interval: the median inside the one GROUP BY
    (an Aggregate, so that its argument stays out of the GROUP BY)."""

    function = "percentile_cont"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = DurationField()


def _decision_medians(decided) -> tuple[dict, dict]:
    """{owner country: median days} and {owner country: decisions}, over decided requests."""
    wait = ExpressionWrapper(F("decided_at") - F("created_at"), output_field=DurationField())
    days = {}
    if connection.vendor == "postgresql":
        rows = (decided.values("case__owner_country").annotate(m=_Median(wait), n=Count("pk"))
                .values_list("case__owner_country", "m", "n").order_by())
        basis = {}
        for country, m, n in rows:
            days[country], basis[country] = m.total_seconds() / 86400, n
        return days, basis
    # SQLite has no percentile: the waits come back as numbers (never rows) and are sorted here.
    waits: dict[str, list] = {}
    for country, w in decided.annotate(w=wait).values_list("case__owner_country", "w"):
        waits.setdefault(country, []).append(w.total_seconds() / 86400)
    return ({c: median(v) for c, v in waits.items()}, {c: len(v) for c, v in waits.items()})


def operational_tables(f: FlowFilter, countries: list[str]) -> list[RawTable]:
    """The group's own figures over the filter's months: cases, shares, decisions, lookups."""
    start, end = f.period()
    months = f.months()
    owners = _country_axes(countries, owned=True)
    opened = Case.objects.filter(created_at__gte=start, created_at__lt=end)
    by_month = _grouped(opened.annotate(m=TruncMonth("created_at")), "m", "owner_country",
                        measure=Count("pk"))
    cases_month = RawTable(
        "cases-month", _("Cases opened per month by owner country"),
        _("Cases the working group's countries opened each month."), _("cases"), OPERATIONAL,
        _month_axes(months), owners,
        {(m.strftime("%Y-%m"), c): n for (m, c), n in by_month.items()})
    by_type = _grouped(opened, "case_type", "owner_country", measure=Count("pk"))
    cases_type = RawTable(
        "cases-type", _("Cases opened by type and owner country"),
        _("Cases opened in the period, by case type."), _("cases"), OPERATIONAL,
        [Axis(t.value, str(t.label)) for t in CaseType], owners, by_type)
    open_now = _grouped(Case.objects.filter(status=CaseStatus.OPEN), "owner_country",
                        measure=Count("pk"))
    cases_open = RawTable(
        "cases-open", _("Open cases by country"), _("Cases open today, by owner country."),
        _("cases"), OPERATIONAL, [Axis("open", str(_("Open cases")))], owners,
        {("open", c): n for c, n in open_now.items()})
    requests = ShareRequest.objects.filter(created_at__gte=start, created_at__lt=end)
    by_status = _grouped(requests, "status", "case__owner_country", measure=Count("pk"))
    shares_status = RawTable(
        "shares-status", _("Share requests by status and owner country"),
        _("Share requests opened in the period, by their status now and the country owning "
          "the case."), _("share requests"), OPERATIONAL,
        [Axis(s.value, str(s.label)) for s in ShareStatus], owners, by_status)
    # A renewal cancelled with its revoked share was never decided by a liaison.
    decided = ShareRequest.objects.filter(decided_at__gte=start, decided_at__lt=end).exclude(
        status=ShareStatus.CANCELLED)
    days, basis = _decision_medians(decided)
    decision_days = RawTable(
        "shares-decision", _("Median time to a decision by owner country"),
        _("Days from a share request to its decision, median per country owning the case."),
        _("days"), OPERATIONAL, [Axis("median", str(_("Median days")))], owners,
        {("median", c): d for c, d in days.items()}, measure=MEDIAN,
        basis={("median", c): n for c, n in basis.items()}, totals=False)
    approved = decided.filter(status__in=APPROVED_ONCE)
    pairs = _grouped(approved, "case__owner_country", "recipient_country", measure=Count("pk"))
    pair_rows = [Axis(f"{a}>{b}", f"{a} → {b}", frozenset({a}))
                 for a in countries for b in countries if a != b]
    shares_pairs = RawTable(
        "shares-pairs", _("Approved shares between countries"),
        _("Shares approved in the period, from the country owning the case to the recipient."),
        _("shares"), OPERATIONAL, pair_rows, [Axis("approved", str(_("Approved shares")))],
        {(f"{a}>{b}", "approved"): n for (a, b), n in pairs.items()})
    lookups = (AuditEntry.objects.filter(action="lookup.search", occurred_at__gte=start,
                                         occurred_at__lt=end)
               .annotate(m=TruncMonth("occurred_at")).values("m", "actor_country")
               .annotate(n=Count("seq"), h=Count("seq", filter=Q(details__partner_countries__gt=0)))
               .values_list("m", "actor_country", "n", "h").order_by())
    lookup_series = [Axis(f"{c}:{kind}", label % {"country": c}, frozenset({c}))
                     for c in countries
                     for kind, label in (("lookups", _("%(country)s lookups")),
                                         ("hits", _("%(country)s lookups with a hit")))]
    lookup_values = {}
    for m, c, n, h in lookups:
        lookup_values[(m.strftime("%Y-%m"), f"{c}:lookups")] = n
        lookup_values[(m.strftime("%Y-%m"), f"{c}:hits")] = h
    lookups_month = RawTable(
        "lookups-month", _("Lookups and hits per month"),
        _("Hit/no-hit lookups by the searching country each month, and how many found a "
          "partner's holdings."), _("lookups"), OPERATIONAL, _month_axes(months), lookup_series,
        lookup_values, totals=False)
    return [cases_month, cases_type, cases_open, shares_status, decision_days, shares_pairs,
            lookups_month]


def dashboard_for(user, f: FlowFilter, *, only: str | None = None) -> Dashboard:
    """The disclosed tables a member sees (every member sees the dashboard)."""
    countries = _countries()
    raws = flow_tables(f, countries) if not only or only.startswith("flows") else []
    if not only or not only.startswith("flows"):
        raws += operational_tables(f, countries)
    viewer = getattr(user, "country_id", None)
    tables = [disclose(raw, viewer_country=viewer, publication=f.publication) for raw in raws
              if not only or raw.slug == only]
    return Dashboard(tables=tables, as_of=as_of())


TABLE_SLUGS = ("flows-month", "flows-segment", "flows-citizenship", "flows-demographic",
               "cases-month", "cases-type", "cases-open", "shares-status", "shares-decision",
               "shares-pairs", "lookups-month")


def revisions_for(user, *, limit: int = 50):
    """The member's own country's revisions, newest first (metadata only: who, when, rows,
    hash, months); a member without a country sees none."""
    country = getattr(user, "country_id", None)
    if not country:
        return FlowRevision.objects.none()
    return (FlowRevision.objects.filter(country_id=country).select_related("uploaded_by")
            .order_by("-uploaded_at", "-id")[:limit])
