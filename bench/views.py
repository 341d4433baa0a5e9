"""The production case list with the permission gate swapped for every case (bench only)."""

from cases.api import CaseListCreate
from cases.models import Case


class UnfilteredCaseList(CaseListCreate):
    """Same authentication, role check, filters, pagination, serializer and audit record;
    only the gate and its count are gone."""

    http_method_names = ["get"]

    def get_queryset(self):
        return Case.objects.all()

    def count(self, queryset) -> int:
        return queryset.count()

    def page_ids(self, queryset):
        return queryset.values("pk")  # the same id-first paging, over the primary key
