"""Sharing pages: the hit/no-hit lookup, asking for access from a hit, the requests list and
one request's page, the owner's offer of a case to partners, and asking to renew a share.

The lookup, the hit, the request and every refusal are the sharing services' answers; the
pages show them in words. A rate limit or a duplicate request is a message on the page.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from core.errors import RateLimited, Unavailable
from sharing import lookup, selectors, services
from web import labels
from web.forms import AskForm, LookupForm, OfferForm, RenewForm, add_service_errors
from web.pages import partner_countries
from web.views import call_service, member_page
from workinggroup.models import Country


def _lookup_page(request, form, *, result=None, ask_forms=(), status=200, problem=""):
    return render(request, "web/lookup.html", {
        "form": form, "result": result, "ask_forms": ask_forms, "problem": problem,
    }, status=status)


@member_page
def lookup_page(request):
    """GET: the form. POST: does a partner hold this identifier? (investigators)."""
    if not request.user.is_investigator:
        raise PermissionDenied(_("Only investigators look up identifiers."))
    form = LookupForm(request.POST or None)
    if request.method != "POST" or not form.is_valid():
        return _lookup_page(request, form, status=400 if form.is_bound else 200)
    try:
        result = lookup.lookup_identifier(user=request.user, **form.cleaned_data)
    except ValidationError as error:
        add_service_errors(form, error)
        return _lookup_page(request, form, status=400)
    except RateLimited:
        problem = _("You have reached the limit of %(limit)s lookups an hour. Try again "
                    "later.") % {"limit": settings.LOOKUP_RATE_LIMIT_PER_HOUR}
        return _lookup_page(request, form, status=429, problem=problem)
    except Unavailable:
        problem = _("Lookups are unavailable for a moment. Try again shortly.")
        return _lookup_page(request, form, status=503, problem=problem)
    names = {c.code: c for c in Country.objects.filter(
        code__in=[hit["country"] for hit in result["hits"]])}
    hits = [{**hit, "country_obj": names.get(hit["country"])} for hit in result["hits"]]
    ask_forms = [(hit, AskForm(initial={"hit_id": hit["hit_id"]}, prefix=str(n)))
                 for n, hit in enumerate(hits)]
    return _lookup_page(request, form, result=result, ask_forms=ask_forms)


@member_page
def ask_for_access(request):
    """POST from a lookup hit: open a request for the hit's cases (one per case)."""
    if request.method != "POST":
        return redirect("web:lookup")
    prefix = request.POST.get("prefix", "0")
    form = AskForm(request.POST, prefix=prefix if prefix.isdigit() else "0")
    problem, status = "", 400
    if form.is_valid():
        data = form.cleaned_data
        opened, problem, status = call_service(
            form, services.share_requests_open_from_hit,
            requester=request.user, hit_id=data["hit_id"], scope=data["scope"],
            justification=data["justification"], expires_at=data["expires_at"],
        )
        if status == 200:
            messages.success(request, _("Request sent to %(country)s: %(count)s case(s). "
                                        "Its liaisons decide.") % {
                "country": (labels.country_name_of(opened[0].case.owner_country_id)
                            if opened else ""),
                "count": len(opened)})
            return redirect("web:requests")
    return render(request, "web/ask.html", {"form": form, "problem": problem,
                                            "prefix": prefix}, status=status)


@member_page
def requests_page(request):
    """The requests the member's country opened or received, newest first, paged; the case
    of a request stays unnamed where the selector withholds it (a hit not yet approved)."""
    page = selectors.share_request_list(request.user, params=request.GET)
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "web/requests.html", {
        "page": page, "query": query.urlencode(),
        "rows": [(row, "case" not in row.withheld,
                  row.case.owner_country_id == request.user.country_id) for row in page],
    })


@member_page
def case_offer(request, case_id):
    """POST from the case page: the owner offers the case to the partner countries checked,
    one request each, all or none (`share_requests_offer`); nothing is created on an error."""
    case = selectors.case_for_offer(request.user, case_id)
    form = OfferForm(request.POST or None, countries=partner_countries(case),
                     awaiting=selectors.recipients_awaiting_decision(request.user, case))
    problem, status = "", 400
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        chosen = data["recipient_countries"]
        opened, problem, status = call_service(
            form, services.share_requests_offer,
            requester=request.user, case=case,
            recipient_countries=list(Country.objects.filter(code__in=chosen).order_by("code")),
            scope=data["scope"], justification=data["justification"],
            expires_at=data["expires_at"],
        )
        if status == 200:
            messages.success(request, _("Offer to %(countries)s sent to your liaisons: one "
                                        "request per country.") % {
                "countries": labels.country_names_of(chosen)})
            return redirect("web:case_detail", case_id=case.pk)
    return render(request, "web/offer.html", {"form": form, "case": case,
                                              "problem": problem}, status=status)


@member_page
def request_detail(request, request_id):
    """One request of the member's country, as owner or recipient (404 otherwise): its state
    in words, what it renews, and, on the owner's side, who approved it, when and why."""
    share_request = selectors.share_request_detail(request.user, request_id)
    ours = share_request.case.owner_country_id == request.user.country_id
    return render(request, "web/request_detail.html", {
        "row": share_request, "ours": ours, "disclosed": "case" not in share_request.withheld,
        # Who approved is the owner's business: the selector withholds it from partners.
        "approvals": ([] if "approvals" in share_request.owner_withheld
                      else list(share_request.approvals.all())),
        "renewals": selectors.renewals_shown(share_request, request.user),
        "can_decide": ours and request.user.is_liaison and share_request.is_undecided(),
        "can_renew": share_request.can_be_renewed_by(request.user),
    })


@member_page
def request_renew(request, request_id):
    """GET: the form asking to renew a share before it expires. POST: a new request that
    renews it (`share_request_renew`), decided by the owner's liaisons like any other."""
    grant = selectors.get_share_request_for(request.user, request_id)
    form = RenewForm(request.POST or None, grant=grant)
    problem, status = "", 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            renewal, problem, status = call_service(
                form, services.share_request_renew, requester=request.user, grant=grant,
                justification=form.cleaned_data["justification"],
                expires_at=form.cleaned_data["expires_at"],
            )
            if status == 200:
                messages.success(request, _("Renewal asked: the liaisons of %(country)s "
                                            "decide.") % {
                    "country": labels.country_name_of(grant.case.owner_country_id)})
                return redirect("web:request_detail", request_id=renewal.pk)
    return render(request, "web/renew.html", {"form": form, "grant": grant,
                                              "disclosed": "case" not in grant.withheld,
                                              "problem": problem}, status=status)
