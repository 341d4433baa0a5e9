"""The auditors' pages: the audit log, one entry, a case's trail, verification and export.

Thin: every read is one of audit.selectors' (which gate, filter and record themselves); a
non-auditor's PermissionDenied becomes the 403 page, an entry they may not see the 404 page.
The filters are the API's, read from the URL, so a filtered view can be bookmarked.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from audit import selectors, verify_jobs
from audit.actions import ACTIONS, OUTCOME_LABELS, action_label
from audit.filters import FILTER_NAMES
from web.forms import add_service_errors
from web.views import member_page

PAGE_SIZE = 50


class AuditFilterForm(forms.Form):
    """The API's filters as a GET form (the selector checks them; this only draws them)."""

    actor = forms.CharField(label=_("Actor"), required=False, max_length=150)
    action = forms.ChoiceField(label=_("Action"), required=False)
    case = forms.CharField(label=_("Case id"), required=False, max_length=36)
    country = forms.CharField(label=_("Country (actor's or case's)"), required=False,
                              max_length=2)
    outcome = forms.ChoiceField(label=_("Outcome"), required=False)
    since = forms.CharField(label=_("Since (UTC, YYYY-MM-DDTHH:MM)"), required=False)
    until = forms.CharField(label=_("Until (UTC, before)"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = [("", _("Any action"))] + [
            (name, f"{action_label(name)} ({name})") for name in sorted(ACTIONS)
        ]
        self.fields["outcome"].choices = [("", _("Any outcome")), *OUTCOME_LABELS.items()]


def _filters(request) -> dict[str, str]:
    return {name: request.GET[name] for name in FILTER_NAMES if request.GET.get(name, "") != ""}


def _rows(entries):
    return [(entry, action_label(entry.action), OUTCOME_LABELS.get(entry.outcome, entry.outcome))
            for entry in entries]


def _cursor(request) -> int | None:
    """The seq the page starts below (keyset paging, newest first); a bad one is ignored."""
    value = request.GET.get("cursor", "")
    return int(value) if value.isdigit() else None


@member_page
def audit_log(request):
    """The caller's visible entries, newest first, filtered from the URL, 50 a page."""
    filters = _filters(request)
    form = AuditFilterForm(request.GET or None)
    below = _cursor(request)

    def paginate(entries):
        if below is not None:
            entries = entries.filter(seq__lt=below)
        return list(entries[:PAGE_SIZE])

    query = {**filters, **({"cursor": str(below)} if below is not None else {})}
    try:
        page = selectors.entries_page(request.user, query, paginate)
    except ValidationError as error:
        form.is_valid()
        add_service_errors(form, error)
        page, status = [], 400
    else:
        status = 200
    base = request.GET.copy()
    base.pop("cursor", None)
    next_cursor = page[-1].seq if len(page) == PAGE_SIZE else None
    return render(request, "web/audit/log.html", {
        "form": form, "rows": _rows(page), "filters": base.urlencode(),
        "next_cursor": next_cursor, "paged": below is not None,
    }, status=status)


@member_page
def audit_entry(request, seq):
    """Every field of one entry, its details, hashes and the checkpoint that covers it."""
    entry, checkpoint = selectors.entry_detail(request.user, seq)
    return render(request, "web/audit/entry.html", {
        "entry": entry, "action_label": action_label(entry.action),
        "outcome_label": OUTCOME_LABELS.get(entry.outcome, entry.outcome),
        "checkpoint": checkpoint,
        "details": [(key, value if isinstance(value, str) else
                     json.dumps(value, ensure_ascii=False, sort_keys=True))
                    for key, value in sorted((entry.details or {}).items())],
    })


@member_page
def case_trail(request, case_id):
    """The entries of one case the auditor may see, in time order."""
    try:
        entries = selectors.case_trail(request.user, case_id)
    except ValidationError:
        entries = None
    return render(request, "web/audit/trail.html", {
        "case_id": case_id, "rows": _rows(entries or []), "bad_id": entries is None,
    }, status=400 if entries is None else 200)


def _fingerprint(raw: bytes | None) -> str:
    """SHA-256 of the raw public key, in the colon-separated form people compare by eye."""
    if not raw:
        return ""
    digest = hashlib.sha256(raw).hexdigest()
    return ":".join(digest[i:i + 4] for i in range(0, 32, 4))


@member_page
@require_http_methods(["GET", "POST"])
def audit_verify(request):
    """A button that walks the whole chain and shows what it found: in the request on the
    embedded default, as a background job with its progress when there is a broker."""
    user, result, job = request.user, None, None
    if request.method == "POST":
        if settings.BROKER_CONFIGURED:
            job_id = verify_jobs.verify_job_start(user)
            return redirect(f"{reverse('web:audit_verify')}?job={job_id}")
        result = asdict(selectors.chain_verification(user))
    elif "job" in request.GET:
        job = verify_jobs.verify_job_state(user, request.GET["job"])
        result = job.get("result")
    checkpoint, public_key = selectors.last_checkpoint(user)
    running = job is not None and job["state"] in ("queued", "running")
    return render(request, "web/audit/verify.html", {
        "result": result, "checkpoint": checkpoint, "job": job, "running": running,
        "fingerprint": _fingerprint(public_key),
        "witnessing": (result or {}).get("witnessing") or {},
    })


@member_page
def audit_export(request, kind):
    """The current filter's entries, streamed as JSON Lines (verifiable) or CSV."""
    filters = _filters(request)
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    if kind == "csv":
        body, content_type, extension = (selectors.entries_csv(request.user, filters),
                                         "text/csv; charset=utf-8", "csv")
    else:
        body, content_type, extension = (selectors.entries_export(request.user, filters),
                                         "application/x-ndjson", "jsonl")
    response = StreamingHttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.{extension}"'
    return response
