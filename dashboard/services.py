"""Importing a country's flow figures: one CSV file, all or nothing, as a new revision."""

from __future__ import annotations

import hashlib

from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

import audit
from core.errors import DomainError
from core.roles import holds_role_permission
from dashboard.models import FlowFigure, FlowRevision
from dashboard.parsing import Problem, no_cyclic_gc, parse_flow_csv
from dashboard.upload import MAX_FILE_BYTES
from workinggroup.models import Country

IMPORT_PERMISSION = "dashboard.import_flows"
_TABLE_COLUMNS = ("month", "country_id", "border_segment", "location", "citizenship",
                  "demographic", "event_type", "count", "revision_id")


class FlowFileRejected(DomainError):
    """A flow-figures file that was refused; `problems` names each problem by line and column."""

    status = 400
    code = "invalid_file"

    def __init__(self, problems: list[Problem]):
        super().__init__(_("The file was refused and nothing of it was stored: "
                           "%(count)d problem(s).") % {"count": len(problems)},
                         problems=[p.as_dict() for p in problems])
        self.problems = problems


def can_import_flows(user) -> bool:
    """A statistics member of a country (the role carries the import permission)."""
    return bool(getattr(user, "country_id", None)) and holds_role_permission(user,
                                                                             IMPORT_PERMISSION)


def flow_import(*, actor, data: bytes, filename: str = "", demonstration: bool = False,
                today=None) -> FlowRevision:
    """Store a country's CSV as a new revision replacing its figures for the months it covers.

    Every problem is listed (FlowFileRejected) and nothing is stored unless there is none.
    The revision (who, when, rows, SHA-256, months) is kept for ever, and `flows.import`
    is audited in the same transaction as the figures.
    """
    if not can_import_flows(actor):
        raise PermissionDenied(_("Only a statistics member of a country imports flow figures."))
    if len(data) > MAX_FILE_BYTES:
        raise FlowFileRejected([Problem(0, "", _("the file is larger than %(mib)d MiB")
                                        % {"mib": MAX_FILE_BYTES // 2**20})])
    country = actor.country_id
    today = today or timezone.localdate()
    parsed, problems = parse_flow_csv(data, country=country, today=today)
    if problems:
        raise FlowFileRejected(problems)
    digest = hashlib.sha256(data).hexdigest()
    month_labels = [m.strftime("%Y-%m") for m in parsed.months]
    with transaction.atomic():
        # Imports of one country run one at a time: the country row is what they decide on.
        Country.objects.select_for_update().get(pk=country)
        revision = FlowRevision.objects.create(
            country_id=country, uploaded_by=actor,
            filename=(filename or "")[:200], rows=len(parsed.rows), sha256=digest,
            first_month=parsed.months[0], last_month=parsed.months[-1], months=month_labels,
            demonstration=demonstration,
        )
        FlowFigure.objects.filter(country_id=country, month__in=parsed.months).delete()
        _insert(parsed.rows, revision.pk)
        audit.record("flows.import", actor, target=revision, country=country,
                     rows=len(parsed.rows), sha256=digest, months=month_labels,
                     filename=revision.filename, demonstration=demonstration)
    return revision


def _insert(rows: list[tuple], revision_id: int) -> None:
    """COPY on PostgreSQL (the bulk path the benchmark measures), bulk_create elsewhere."""
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(FlowFigure._meta.db_table)
        names = ", ".join(connection.ops.quote_name(c) for c in _TABLE_COLUMNS)
        with connection.cursor() as cursor, no_cyclic_gc():
            with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row((*row, revision_id))
        return
    FlowFigure.objects.bulk_create(
        (FlowFigure(month=m, country_id=c, border_segment=s, location=loc, citizenship=cz,
                    demographic=d, event_type=e, count=n, revision_id=revision_id)
         for m, c, s, loc, cz, d, e, n in rows),
        batch_size=2000,
    )
