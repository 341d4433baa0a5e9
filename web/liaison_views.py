"""Liaison pages: the decision inbox (approve or deny with a note), the grants (revoke) and
partners' lookup hits on the country's cases.

The inbox and the grants are `sharing.selectors.liaison_inbox` / `liaison_grants`, always
of the member's own country; a decision or a revocation is the sharing service's, and its
refusals are shown in its words: a state conflict (another liaison decided first) on the
page with 409, a refusal by role or country on the 403 page, an uninvolved request 404.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sharing import lookup, selectors, services
from web import labels
from web.views import call_service, member_page


class DecisionForm(forms.Form):
    """Approve or deny, with a note for the requester (and the audit log)."""

    decision = forms.ChoiceField(choices=[("approve", gettext_lazy("Approve")),
                                          ("deny", gettext_lazy("Deny"))])
    note = forms.CharField(label=gettext_lazy("Note"), required=False, max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 2}))


class RevokeForm(forms.Form):
    """Take a share back, with a note."""

    note = forms.CharField(label=gettext_lazy("Note"), required=False, max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 2}))


def _inbox(request, *, problem="", status=200):
    rows = selectors.liaison_inbox(request.user)
    return render(request, "web/liaison/inbox.html", {
        "rows": rows, "problem": problem,
    }, status=status)


@member_page
def inbox(request):
    """The undecided requests for the member's country's cases, oldest first."""
    return _inbox(request)


@member_page
def decide(request, request_id):
    """POST: approve or deny one request (404 unless it involves the member's country)."""
    if request.method != "POST":
        return redirect("web:liaison_inbox")
    share_request = selectors.get_share_request_for(request.user, request_id)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        return _inbox(request, problem=_("Choose approve or deny."), status=400)
    approve = form.cleaned_data["decision"] == "approve"
    service = services.share_request_approve if approve else services.share_request_deny
    done, problem, status = call_service(
        form, service, share_request=share_request, liaison=request.user,
        note=form.cleaned_data["note"],
    )
    if status != 200:
        return _inbox(request, problem=problem, status=status)
    reference = share_request.case.reference
    recipient = labels.country_name_of(share_request.recipient_country_id)
    if approve and done.is_undecided():
        messages.success(request, _("Approval recorded: %(reference)s is not shared with "
                                    "%(country)s until another liaison approves too.") % {
            "reference": reference, "country": recipient})
    elif approve:
        messages.success(request, _("Approved: %(reference)s is shared with %(country)s.") % {
            "reference": reference, "country": recipient})
    else:
        messages.success(request, _("Denied: the request for %(reference)s.") % {
            "reference": reference})
    return redirect("web:liaison_inbox")


def _grants(request, *, problem="", status=200):
    history = request.GET.get("tab") == "history"
    shares = selectors.liaison_grants(request.user, history=history)
    return render(request, "web/liaison/grants.html", {
        **shares, "history": history, "problem": problem,
    }, status=status)


@member_page
def grants(request):
    """The country's active shares (revocable), its history, and what partners gave it."""
    return _grants(request)


@member_page
def revoke(request, request_id):
    """POST: take one share of the member's country's case back."""
    if request.method != "POST":
        return redirect("web:liaison_grants")
    share_request = selectors.get_share_request_for(request.user, request_id)
    form = RevokeForm(request.POST)
    form.is_valid()
    _done, problem, status = call_service(
        form, services.share_request_revoke, share_request=share_request,
        liaison=request.user, note=form.cleaned_data.get("note", ""),
    )
    if status != 200:
        return _grants(request, problem=problem, status=status)
    messages.success(request, _("Revoked: %(country)s no longer holds %(reference)s.") % {
        "country": labels.country_name_of(share_request.recipient_country_id),
        "reference": share_request.case.reference})
    return redirect("web:liaison_grants")


@member_page
def hits(request):
    """Partners' lookups that matched the country's cases: who asked, when, which case,
    whether a request followed (`sharing.lookup.hits_on_country_cases`, liaisons only)."""
    return render(request, "web/liaison/hits.html", {
        "hits": lookup.hits_on_country_cases(request.user),
    })
