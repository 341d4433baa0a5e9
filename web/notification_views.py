"""The notification centre: the member's own notifications, newest first, and "mark read".

Each names a request or a hit and links to the page where it is handled; a request's case
is named only where the request's rule discloses it to the member (`sharing.selectors`).
Beside them, the member's country's overdue and due-soon tasks of joint operations
(`plans.selectors.tasks_needing_attention`): `sharing` sits below `plans`, so the page joins
the two, and a task stays listed until it is done rather than until it is read.
"""

from __future__ import annotations

from django.shortcuts import redirect, render

from plans.selectors import tasks_needing_attention
from sharing import centre, selectors
from web.views import member_page


@member_page
def notification_centre(request):
    """GET: the list (unread marked). POST: mark every one read."""
    if request.method == "POST":
        centre.notifications_mark_read(member=request.user)
        return redirect("web:notifications")
    rows = centre.notifications_for(request.user)
    for row in rows:
        row.disclosed = bool(row.share_request) and "case" not in selectors.withheld_fields(
            row.share_request, request.user)
    tasks = tasks_needing_attention(request.user)
    return render(request, "web/notifications/centre.html", {"rows": rows, "tasks": tasks})
