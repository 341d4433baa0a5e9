"""The pages' half of the error mapping: domain errors become the site's error pages.

A page view calls the same selectors and services as the API, so it meets the same errors:
Django's PermissionDenied / Http404 / ValidationError and core/errors.py's. This middleware
answers them with the site's page of the right status (templates/403.html, 404.html, ...),
and records 403 and 404 refusals as `access.denied` through the very function the API's
handler uses, so a refused page request is audited exactly as a refused API call. Paths
under /api/ are left to DRF's handler (workinggroup/exceptions.py).
"""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template

from workinggroup.refusals import describe, record_denial

API_PREFIX = "/api/"


class DomainErrorPagesMiddleware:
    """process_exception for page requests: the status and page a domain error stands for."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exc):
        if request.path.startswith(API_PREFIX):
            return None
        answer = describe(exc)
        if answer is None:
            return None  # not a domain error: Django's own handling (a 500 page)
        if answer.status in (403, 404):
            record_denial(request, answer.status, answer.detail)
        template = _template_for(answer.status)
        if template is None:
            # No page for this status yet (400, 503, 507): the answer as plain text, with
            # its status, rather than a 500 for an error the service raised on purpose.
            response = HttpResponse(answer.detail, status=answer.status,
                                    content_type="text/plain; charset=utf-8")
        else:
            response = render(
                request, template, {"detail": answer.detail, "errors": answer.errors,
                                    "status": answer.status, **answer.extra},
                status=answer.status,
            )
        for name, value in answer.headers.items():
            response[name] = value
        return response


def _template_for(status: int) -> str | None:
    """`<status>.html`, or 400.html for any other client error; None when neither exists."""
    for name in (f"{status}.html", "400.html" if 400 <= status < 500 else None):
        if name is None:
            continue
        try:
            get_template(name)
        except TemplateDoesNotExist:
            continue
        return name
    return None
