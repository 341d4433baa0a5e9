"""The dashboard's pages: the figures (every member), their CSVs, and the statistics members'
import. Thin: parse the form, call dashboard's selector or service, render."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from dashboard import charts
from dashboard.export import table_csv
from dashboard.selectors import TABLE_SLUGS, dashboard_for, revisions_for
from dashboard.services import FlowFileRejected, can_import_flows, flow_import
from dashboard.upload import MAX_FILE_BYTES, CsvUploadHandler
from web.dashboard_forms import FilterForm, FlowUploadForm
from web.plans_dashboard import PLAN_SLUGS, plan_tables
from web.views import member_page

_csrf = CsrfViewMiddleware(lambda request: None)


def _filters(request):
    form = FilterForm(request.GET or None)
    publication = request.GET.get("publication") == "1"
    return form, form.flow_filter(timezone.localdate(), publication=publication)


@member_page
def dashboard(request):
    """Every chart with its table and CSV link, under the filters in the URL."""
    form, flow_filter = _filters(request)
    data = dashboard_for(request.user, flow_filter)
    data.tables += plan_tables(request.user, publication=flow_filter.publication)
    query = request.GET.copy()
    query.pop("publication", None)
    return render(request, "dashboard/dashboard.html", {
        "form": form, "filter": flow_filter, "data": data, "query": query.urlencode(),
        "panels": [(table, charts.chart(table)) for table in data.tables],
        "can_import": can_import_flows(request.user),
    })


@member_page
def dashboard_csv(request, slug):
    """Exactly one table as shown (or marked for publication: every count rounded)."""
    if slug not in TABLE_SLUGS + PLAN_SLUGS:
        raise Http404
    form, flow_filter = _filters(request)
    data = dashboard_for(request.user, flow_filter, only=slug)
    data.tables += [t for t in plan_tables(request.user, publication=flow_filter.publication)
                    if t.slug == slug]
    if not data.tables:  # a country in no plan has no plan panel
        raise Http404
    described = "; ".join(f"{k}={v}" for k, v in request.GET.items()) or _("none")
    body = table_csv(data.table(slug), data, filters=described)
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    suffix = "-publication" if flow_filter.publication else ""
    response["Content-Disposition"] = (
        f'attachment; filename="{slug}-{flow_filter.month_from:%Y-%m}-'
        f'{flow_filter.month_to:%Y-%m}{suffix}.csv"')
    return response


@csrf_exempt  # checked below, once the CSV handler is armed (the middleware would parse first)
@member_page
@require_http_methods(["GET", "POST"])
def flow_import_page(request):
    """A statistics member uploads their country's CSV; every problem is listed on refusal."""
    request.upload_handlers = [CsvUploadHandler(request)]
    if not can_import_flows(request.user):
        raise PermissionDenied(_("Only a statistics member of a country imports flow figures."))
    if request.method == "POST":
        refused = _csrf.process_view(request, None, (), {})
        if refused is not None:
            return refused
    form = (FlowUploadForm(request.POST, request.FILES) if request.method == "POST"
            else FlowUploadForm())
    problems = []
    if request.method == "POST" and request.upload_handlers[0].too_large:
        form.add_error("file", _("The file is larger than %(mib)d MiB.")
                       % {"mib": MAX_FILE_BYTES // 2**20})
    elif request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            revision = flow_import(actor=request.user, data=upload.read(), filename=upload.name)
        except FlowFileRejected as exc:
            problems = exc.problems
        else:
            messages.success(request, _("Revision %(id)s stored: %(rows)s rows for %(first)s to "
                                        "%(last)s.") % {
                "id": revision.pk, "rows": revision.rows,
                "first": f"{revision.first_month:%Y-%m}", "last": f"{revision.last_month:%Y-%m}"})
            return redirect("web:dashboard")
    return render(request, "dashboard/import.html", {
        "form": form, "problems": problems, "revisions": revisions_for(request.user),
    }, status=400 if problems else 200)
