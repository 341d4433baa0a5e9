"""Case pages: the list, a case, opening and editing one, adding and editing its subjects.

Thin: parse the form, call the selector or the service, render. The gate, the scope a
partner holds, the subjects a partner may see and who may edit come from cases.selectors,
cases.listing and cases.attachments (the same functions the API calls); a service's
ValidationError is shown beside the field it names.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from cases import attachments, permissions, selectors, services
from cases.listing import case_list as list_cases
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
from web.pages import countries, partner_countries
from web.views import member_page


@member_page
def case_list(request):
    """The member's visible cases, newest first, searched and filtered from the URL."""
    form = CaseSearchForm(request.GET or None, countries=countries())
    params = {name: value for name, value in request.GET.items() if value != ""}
    try:
        page = list_cases(request.user, params=params)
    except ValidationError as error:
        form.is_valid()
        add_service_errors(form, error)
        page, status = None, 400
    else:
        status = 200
    rows = list(page) if page is not None else []
    held = share_selectors.held_shares(request.user, [case.pk for case in rows])
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "web/case_list.html", {
        "form": form, "page": page, "query": query.urlencode(),
        "rows": [(case, held.get(case.pk)) for case in rows],
        "can_create": permissions.can_create_case(request.user),
    }, status=status)


@member_page
def case_detail(request, case_id):
    """One case: header, handling banner, evaluation, summary, and what the scope opens."""
    user = request.user
    case = selectors.case_detail(user, case_id)
    subjects = evidence = shares = offer_form = None
    if case.access in ("owner", FULL, FULL_WITH_FILES):
        subjects = selectors.subject_list(user, case.pk)
        evidence = attachments.attachment_list(user, case.pk)
    can_edit = permissions.can_edit_case(user, case)
    if case.access == "owner":
        shares = share_selectors.share_request_list(user, params={"case": str(case.pk)})
        if share_selectors.can_offer(user, case):
            offer_form = OfferForm(
                countries=partner_countries(case),
                awaiting=share_selectors.recipients_awaiting_decision(user, case))
    return render(request, "web/case_detail.html", {
        "case": case, "access": case.access, "subjects": subjects, "evidence": evidence,
        "can_download": case.access in ("owner", FULL_WITH_FILES), "can_edit": can_edit,
        "shares": shares, "offer_form": offer_form,
        "upload_limit": settings.ATTACHMENT_MAX_BYTES,
    })


@member_page
def case_create(request):
    """Open a case owned by the member's country."""
    services.require_case_creator(request.user)
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
    case = selectors.case_for_edit(request.user, case_id)
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
    return render(request, "web/case_form.html", {"form": form, "case": case},
                  status=_status(form))


def _identifier_errors(formset, rows):
    """Service field names of identifier rows -> the row's value field on the page."""
    return {f"identifiers.{n}.value": (formset.forms[index], "value")
            for n, (index, _item) in enumerate(rows)}


@member_page
def subject_add(request, case_id):
    """Add a subject with several identifiers at once (the owner country's investigators)."""
    case = selectors.case_for_edit(request.user, case_id)
    form = SubjectForm(request.POST or None)
    formset = IdentifierFormSet(request.POST or None, prefix="identifiers")
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        rows = identifier_rows(formset)
        try:
            services.subject_add(case=case, actor=request.user, **form.cleaned_data,
                                 identifiers=[item for _, item in rows])
        except ValidationError as error:
            add_service_errors(form, error, prefix_map=_identifier_errors(formset, rows))
        else:
            messages.success(request, _("Subject %(name)s added.") %
                             {"name": form.cleaned_data["full_name"]})
            return redirect("web:case_detail", case_id=case.pk)
    return _subject_page(request, form, formset, case, None)


@member_page
def subject_edit(request, case_id, subject_id):
    """Edit a subject's fields and add identifiers to it, in one transaction."""
    subject = selectors.subject_for_edit(request.user, case_id, subject_id)
    case = subject.case
    initial = {name: getattr(subject, name) for name in services.SUBJECT_FIELDS}
    initial["aliases"] = "\n".join(subject.aliases)
    form = SubjectForm(request.POST or None, initial=initial)
    formset = IdentifierFormSet(request.POST or None, prefix="identifiers")
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        rows = identifier_rows(formset)
        try:
            with transaction.atomic():  # the fields and the new identifiers, or neither
                subject = services.subject_update(subject=subject, actor=request.user,
                                                  **form.cleaned_data)
                if rows:
                    services.identifier_add(subject=subject, actor=request.user,
                                            identifiers=[item for _, item in rows])
        except ValidationError as error:
            add_service_errors(form, error, prefix_map=_identifier_errors(formset, rows))
        else:
            messages.success(request, _("Subject %(name)s saved.") %
                             {"name": subject.full_name})
            return redirect("web:case_detail", case_id=case.pk)
    subject = selectors.subject_with_identifiers(subject)
    return _subject_page(request, form, formset, case, subject)


def _subject_page(request, form, formset, case, subject):
    invalid = form.is_bound and (form.errors or any(f.errors for f in formset.forms))
    return render(request, "web/subject_form.html",
                  {"form": form, "formset": formset, "case": case, "subject": subject},
                  status=400 if invalid else 200)


def _status(form) -> int:
    return 400 if form.is_bound and form.errors else 200
