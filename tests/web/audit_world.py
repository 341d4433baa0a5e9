"""The auditors' scenario, built with the domain services (pages and browser tests share it).

An MX investigator looks up a passport of a US H1 case, asks for access from the hit, and a US
liaison approves; a GT investigator's attempt to open the US case is refused (404, recorded
as access.denied and readable by GT's auditors only). Returns what the tests look for.
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

from django.utils import timezone

from audit.drain import drain_outbox
from cases import services as case_services
from sharing import services as share_services
from sharing.lookup import lookup_identifier


def build(make_member, web_client) -> SimpleNamespace:
    """web_client(user) -> a Client signed in past the TOTP step (tests/conftest.py `web`)."""
    us_author = make_member("US", "investigator", username="us.author")
    us_liaison = make_member("US", "liaison", username="us.liaison")
    mx_investigator = make_member("MX", "investigator", username="mx.investigator")
    gt_investigator = make_member("GT", "investigator", username="gt.investigator")
    case = case_services.case_create(
        actor=us_author, title="Operación Quetzal", case_type="trafficking",
        summary="Recruitment through Tapachula.", handling_code="H1")
    case_services.subject_add(case=case, actor=us_author, full_name="Hector Ruiz",
                              role="transporter",
                              identifiers=[{"identifier_type": "passport", "value": "G7654321"}])
    found = lookup_identifier(user=mx_investigator, identifier_type="passport", value="G7654321")
    [hit] = found["hits"]
    [request] = share_services.share_requests_open_from_hit(
        requester=mx_investigator, hit_id=hit["hit_id"], scope="summary",
        justification="The passport crossed at Tecún Umán.",
        expires_at=timezone.now() + dt.timedelta(days=30))
    share_services.share_request_approve(share_request=request, liaison=us_liaison,
                                         note="Approved for the joint operation.")
    refused = web_client(gt_investigator).get(f"/cases/{case.pk}/")
    assert refused.status_code == 404
    drain_outbox()
    return SimpleNamespace(case=case, request=request, us_liaison=us_liaison,
                           mx_investigator=mx_investigator, gt_investigator=gt_investigator,
                           us_author=us_author)
