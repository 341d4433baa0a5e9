"""The production case list with the permission gate swapped for every case (bench only)."""

from cases import listing
from cases.api import CaseListCreate
from cases.models import Case
from cases.selectors import require_case_reader


class UnfilteredCaseList(CaseListCreate):
    """Same authentication, role check, filters, pagination, serializer and audit record;
    only the gate and its count are gone."""

    http_method_names = ["get"]

    def list_page(self, request):
        require_case_reader(request.user)
        rows = Case.objects.all()
        return listing._case_page(  # the production list's own paging, over every case
            request.user, request.query_params, rows=rows, count=rows.count,
            ids=lambda: rows.values("pk"),  # the same id-first paging, over the primary key
        )
