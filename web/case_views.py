"""Case pages: the list, a case, opening and editing one, its subjects.

Thin: parse the form, call the selector or the service, render. The gate, the scope a
partner holds, the subjects a partner may see and who may edit all come from cases.selectors
and cases.permissions; a service's ValidationError is shown beside the field it names.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

import audit
from cases import attachments, permissions, selectors, services
from cases.permissions import FULL, FULL_WITH_FILES
from sharing import selectors as share_selectors
from web.forms import (
    CaseForm,
    CaseSearchForm,
    IdentifierFormSet,
    OfferForm,
    SubjectForm,
    add_service_errors,
    identifier_rows,
)
from web.pages import case_for_page, case_search, countries, partner_countries
from web.views import member_page

PAGE_SIZE = 25


@member_page
def case_list(request):
    """The member's visible cases, newest first, searched and filtered from the URL."""
    form = CaseSearchForm(request.GET or None, countries=countries())
    filters = form.filters() if form.is_bound and form.is_valid() else {}
    cases, count = case_search(request.user, **filters)
    paginator = Paginator(cases, PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    rows = list(page.object_list)
    held = share_selectors.held_shares(request.user, [case.pk for case in rows])
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "web/case_list.html", {
        "form": form, "page": page, "count": count, "query": query.urlencode(),
        "rows": [(case, held.get(case.pk)) for case in rows],
        "can_create": permissions.can_create_case(request.user),
    })


@member_page
def case_detail(request, case_id):
    """One case: header, handling banner, evaluation, summary, and what the scope opens."""
    case, access = case_for_page(request.user, case_id)
    user = request.user
    subjects = evidence = shares = None
    if access in ("owner", FULL, FULL_WITH_FILES):
        subjects = list(selectors.visible_subjects(user, case).prefetch_related("identifiers"))
        audit.record("subject.view", user, target=case, count=len(subjects))
        evidence = list(attachments.attachments_for(user=user, case_id=case.pk))
    can_edit = permissions.can_edit_case(user, case)
    offer_form = None
    if selectors.is_owner(user, case):
        shares = list(share_selectors.share_requests_for(user).filter(case=case)
                      .order_by("-created_at"))
        if can_edit:
            offer_form = OfferForm(countries=partner_countries(case))
    return render(request, "web/case_detail.html", {
        "case": case, "access": access, "subjects": subjects, "evidence": evidence,
        "can_download": access in ("owner", FULL_WITH_FILES), "can_edit": can_edit,
        "shares": shares, "offer_form": offer_form, "now": timezone.now(),
        "upload_limit": settings.ATTACHMENT_MAX_BYTES,
    })


@member_page
def case_create(request):
    """Open a case owned by the member's country."""
    if not permissions.can_create_case(request.user):
        raise PermissionDenied(_("Only investigators open cases."))
    form = CaseForm(request.POST or None, creating=True)
    if request.method == "POST" and form.is_valid():
        try:
            case = services.case_create(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Case %(reference)s opened.") %
                             {"reference": case.reference})
            return redirect("web:case_detail", case_id=case.pk)
    return render(request, "web/case_form.html", {"form": form, "case": None},
                  status=_status(form))


@member_page
def case_edit(request, case_id):
    """Edit a case (the owner country's investigators)."""
    case, _access = case_for_page(request.user, case_id)
    initial = {name: getattr(case, name) for name in services.EDITABLE_FIELDS}
    form = CaseForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.case_update(case=case, actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Case %(reference)s saved.") %
                             {"reference": case.reference})
            return redirect("web:case_detail", case_id=case.pk)
    elif not permissions.can_edit_case(request.user, case):
        raise PermissionDenied(_("Only the owner country's investigators change a case."))
    return render(request, "web/case_form.html", {"form": form, "case": case},
                  status=_status(form))


@member_page
def subject_add(request, case_id):
    """Add a subject with several identifiers at once (the owner country's investigators)."""
    case, _access = case_for_page(request.user, case_id)
    if not permissions.can_edit_case(request.user, case):
        raise PermissionDenied(_("Only the owner country's investigators change a case."))
    form = SubjectForm(request.POST or None)
    formset = IdentifierFormSet(request.POST or None, prefix="identifiers")
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        rows = identifier_rows(formset)
        try:
            with transaction.atomic():
                services.subject_add(case=case, actor=request.user, **form.cleaned_data,
                                     identifiers=[item for _, item in rows])
        except ValidationError as error:
            prefix_map = {f"identifiers.{n}.value": (formset.forms[index], "value")
                          for n, (index, _item) in enumerate(rows)}
            add_service_errors(form, error, prefix_map=prefix_map)
        else:
            messages.success(request, _("Subject %(name)s added.") %
                             {"name": form.cleaned_data["full_name"]})
            return redirect("web:case_detail", case_id=case.pk)
    invalid = form.is_bound and (form.errors or any(f.errors for f in formset.forms))
    return render(request, "web/subject_form.html",
                  {"form": form, "formset": formset, "case": case},
                  status=400 if invalid else 200)


def _status(form) -> int:
    return 400 if form.is_bound and form.errors else 200

