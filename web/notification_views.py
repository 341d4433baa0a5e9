"""The notification centre: the member's own notifications, newest first, and "mark read".

Each names a request or a hit and links to the page where it is handled; a request's case
is named only where the request's rule discloses it to the member (`sharing.selectors`).
"""

from __future__ import annotations

from django.shortcuts import redirect, render

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
        row.disclosed = bool(row.share_request) and not selectors.withheld_fields(
            row.share_request, request.user)
    return render(request, "web/notifications/centre.html", {"rows": rows})
