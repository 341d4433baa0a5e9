"""The API's query-string contract, as the OpenAPI schema states it (workinggroup.schema_api).

- A query parameter, when given, has a value: `?status=` is refused with a 400 naming
  `status`, whatever the parameter's type (an enum, a UUID, a date-time, a page number, text).
  Leave a parameter out to mean "no filter". The pages' forms keep sending empty fields; the
  web views drop them before asking the same selectors.
- `page` is a whole number from 1 to MAX_PAGE, else a 400 naming it; a page past the last is
  a 404 (the case and share lists' cases.paging, and DRF's paginator below for the plans,
  tasks and gaps lists).
"""

from __future__ import annotations

from collections.abc import Mapping

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, pagination

MAX_PAGE = 10**6
EMPTY_VALUE = _("may not be empty: leave the parameter out instead")


def refuse_empty_values(params: Mapping) -> None:
    """A 400 naming each query parameter given with an empty value."""
    empty = sorted(str(name)[:64] for name, value in params.items() if value == "")
    if empty:
        raise exceptions.ValidationError({name: [EMPTY_VALUE] for name in empty})


class PageNumberPagination(pagination.PageNumberPagination):
    """DRF's PageNumberPagination, refusing a malformed page number with 400, not 404, and
    any empty query value (these lists' filters are read before paging)."""

    def paginate_queryset(self, queryset, request, view=None):
        refuse_empty_values(request.query_params)
        return super().paginate_queryset(queryset, request, view)

    def get_page_number(self, request, paginator):
        if self.page_query_param not in request.query_params:
            return 1
        raw = request.query_params[self.page_query_param]
        if not (raw.isascii() and raw.isdigit() and 1 <= int(raw) <= MAX_PAGE):
            raise exceptions.ValidationError({self.page_query_param: [_("a page number from 1")]})
        return int(raw)
