"""Template filters of the pages: names of closed lists in the member's language."""

from django import template

from sharing.models import ShareOrigin, ShareScope, ShareStatus
from web import labels

register = template.Library()


@register.filter
def country_name(country):
    return labels.country_name(country)


@register.filter
def scope_label(scope):
    return ShareScope(scope).label if scope in ShareScope.values else scope


@register.filter
def share_status_label(status):
    return ShareStatus(status).label if status in ShareStatus.values else status


@register.filter
def origin_label(origin):
    return ShareOrigin(origin).label if origin in ShareOrigin.values else origin


@register.filter
def identifier_type_label(kind):
    return labels.IDENTIFIER_TYPE_LABELS.get(kind, kind)


@register.filter
def code_meaning(label):
    """"H1: not for judicial proceedings ..." -> "not for judicial proceedings ...": the
    meaning of a coded choice, for a page that shows the code itself beside it."""
    return str(label).partition(": ")[2] or label
