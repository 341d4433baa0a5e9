"""The access matrix over the auditor pages: every role of every country and the
administrator. Investigators, liaisons and administrators get 403 on every audit page; a
country auditor's pages list exactly the entries `entries_visible_to` gives them (never one
of another country alone), an entry they may not see is a 404, and no page or export of an
auditor carries case content (titles, summaries, subjects' names)."""

import re

import pytest

from audit.drain import drain_outbox
from audit.models import AuditEntry
from audit.selectors import entries_visible_to
from tests.cases.test_access_matrix import PEOPLE, role_of

AUDIT_URLS = ("/audit/", "/audit/verify/", "/audit/export.jsonl", "/audit/export.csv")
CASE_CONTENT = ("network", "US summary", "GT summary", "MX summary", "Organiser", "Victima",
                "Testigo", "shared with")


@pytest.mark.parametrize("person", PEOPLE)
def test_audit_pages_follow_the_access_model(module_world, web, person):
    drain_outbox()
    user = module_world.people[person]
    client = web(user)
    some_seq = AuditEntry.objects.order_by("seq").values_list("seq", flat=True).first()
    case_id = str(module_world.cases["US"].pk)
    urls = (*AUDIT_URLS, f"/audit/entries/{some_seq}/", f"/audit/cases/{case_id}/")
    if role_of(person) != "auditor":
        for url in urls:
            assert client.get(url).status_code == 403, (person, url)
        assert client.post("/audit/verify/").status_code == 403
        return

    visible = set(entries_visible_to(user).values_list("seq", flat=True))
    assert visible and all(
        user.country_id in (e.actor_country, e.case_country)
        for e in AuditEntry.objects.filter(seq__in=visible))
    html = client.get("/audit/?action=case.create").content.decode()
    listed = {int(s) for s in re.findall(r'href="/audit/entries/(\d+)/"', html)}
    assert listed == set(entries_visible_to(user).filter(action="case.create")
                         .values_list("seq", flat=True))
    assert listed
    bodies = [html]
    for url in AUDIT_URLS[2:]:
        response = client.get(url)
        assert response.status_code == 200, url
        bodies.append(b"".join(response.streaming_content).decode())
    for seq in AuditEntry.objects.filter(seq__lte=max(visible)).values_list("seq", flat=True):
        response = client.get(f"/audit/entries/{seq}/")
        assert response.status_code == (200 if seq in visible else 404), (person, seq)
        if seq in visible:
            bodies.append(response.content.decode())
    bodies.append(client.get(f"/audit/cases/{case_id}/").content.decode())
    for body in bodies:
        for content in CASE_CONTENT:
            assert content not in body, (person, content)
