"""Pages of a list, for the API and the pages alike: a page number in, a `Page` out.

The selectors that list things (cases, subjects, attachments, share requests) answer a
`Page`; the API renders it as `{count, next, previous, results}` and a page template as a
table with links. A page number that is not a number is a ValidationError naming `page`;
one past the last page is a 404 (Django's paginator says the same).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping

from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from workinggroup.query_api import MAX_PAGE

PAGE_SIZE = 50


@dataclasses.dataclass(frozen=True)
class Page:
    """One page of a list: its rows, its number, the size of the whole list."""

    items: list
    number: int
    count: int
    page_size: int = PAGE_SIZE
    filters: dict = dataclasses.field(default_factory=dict)

    @property
    def num_pages(self) -> int:
        return max(1, math.ceil(self.count / self.page_size))

    @property
    def has_next(self) -> bool:
        return self.number < self.num_pages

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    def __iter__(self):
        return iter(self.items)

    def __len__(self):
        return len(self.items)


def page_number(raw) -> int:
    """The page asked for (1 when none): a whole number from 1, else a ValidationError."""
    if raw is None or raw == "":
        return 1
    raw = str(raw)
    if not (raw.isascii() and raw.isdigit() and 1 <= int(raw) <= MAX_PAGE):
        raise ValidationError({"page": [_("a page number from 1")]})
    return int(raw)


def refuse_unknown_parameters(params: Mapping, known) -> None:
    """A list's query parameters are a closed set: an unknown one is named, not ignored."""
    unknown = sorted(str(name)[:64] for name in params if name not in known)
    if unknown:
        raise ValidationError({name: [_("unknown query parameter")] for name in unknown})


def paginate(
    rows,
    page,
    *,
    page_size: int = PAGE_SIZE,
    count: Callable[[], int] | None = None,
    ids=None,
    filters: dict | None = None,
) -> Page:
    """The page `page` of `rows` (an ordered queryset).

    `count` supplies a cheaper exact total than `rows.count()`; `ids`, an ordered queryset of
    the rows' ids (an index-only range): a page's ids are taken from it first and its rows
    fetched by id, so a deep page skips no full rows.
    """
    number = page_number(page)
    total = count() if count is not None else rows.count()
    if number > max(1, math.ceil(total / page_size)):
        raise Http404(_("Invalid page."))
    window = slice((number - 1) * page_size, number * page_size)
    items = list(rows.filter(pk__in=ids[window])) if ids is not None else list(rows[window])
    return Page(items, number, total, page_size, filters or {})
