"""The security gaps register: visible only to the countries a gap names; evidence files
encrypted as case files are, under the gap's visibility rule."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from plans.models import GapEvidence
from tests.plans.conftest import GAP

pytestmark = pytest.mark.django_db



def _record(api, user, **changes):
    response = api(user).post("/api/v1/gaps/", {**GAP, **changes}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def test_a_gap_is_visible_only_to_the_countries_it_names(
    api, mx_investigator, gt_investigator, us_investigator
):
    gap = _record(api, mx_investigator, countries=["GT"])
    assert gap["countries"] == ["GT", "MX"]
    assert api(gt_investigator).get(f"/api/v1/gaps/{gap['id']}/").status_code == 200
    assert api(us_investigator).get(f"/api/v1/gaps/{gap['id']}/").status_code == 404
    assert api(us_investigator).get("/api/v1/gaps/").json()["results"] == []
    assert [g["id"] for g in api(gt_investigator).get("/api/v1/gaps/").json()["results"]] == [
        gap["id"]]


def test_the_register_filters(api, mx_investigator):
    _record(api, mx_investigator)
    _record(api, mx_investigator, border_segment="US-MX", severity="low", kind="other")
    client = api(mx_investigator)
    assert len(client.get("/api/v1/gaps/?severity=low").json()["results"]) == 1
    assert len(client.get("/api/v1/gaps/?border_segment=MX-GT").json()["results"]) == 1
    assert len(client.get("/api/v1/gaps/?status=mitigated").json()["results"]) == 0
    bad = client.get("/api/v1/gaps/?severity=extreme")
    assert bad.status_code == 400 and "severity" in bad.json()["detail"]


def test_named_countries_update_and_mitigate_then_it_is_frozen(
    api, mx_investigator, gt_liaison, us_investigator
):
    gap = _record(api, mx_investigator, countries=["GT"])
    url = f"/api/v1/gaps/{gap['id']}/"
    assert api(us_investigator).patch(url, {"severity": "low"},
                                      format="json").status_code == 404
    # Only the recording country shows the gap to more countries.
    assert api(gt_liaison).patch(url, {"add_countries": ["US"]},
                                 format="json").status_code == 403
    done = api(gt_liaison).patch(url, {"status": "mitigated"}, format="json")
    assert done.status_code == 200 and done.json()["status"] == "mitigated"
    assert done.json()["mitigated_at"]
    again = api(mx_investigator).patch(url, {"severity": "low"}, format="json")
    assert again.status_code == 409 and again.json()["status"] == "mitigated"


def test_a_gap_names_its_plan_only_to_the_plans_participants(
    api, joined_plan, us_investigator, mx_investigator, gt_investigator
):
    gap = _record(api, us_investigator, countries=["MX", "GT"], plan=str(joined_plan.pk))
    assert gap["plan"] == str(joined_plan.pk)
    assert api(mx_investigator).get(f"/api/v1/gaps/{gap['id']}/").json()["plan"] == str(
        joined_plan.pk)
    assert api(gt_investigator).get(f"/api/v1/gaps/{gap['id']}/").json()["plan"] is None
    # A plan the recorder does not take part in cannot be named (nor its existence probed).
    refused = api(gt_investigator).post("/api/v1/gaps/", {**GAP, "plan": str(joined_plan.pk)},
                                        format="json")
    assert refused.status_code == 400 and "plan" in refused.json()["errors"]


def test_evidence_is_encrypted_and_follows_the_gap(
    api, mx_investigator, gt_investigator, us_investigator, settings
):
    gap = _record(api, mx_investigator, countries=["GT"])
    body = b"%PDF-1.4\n" + b"crossing log " * 4000 + b"\n%%EOF\n"
    upload = api(mx_investigator).post(
        f"/api/v1/gaps/{gap['id']}/evidence/",
        {"file": SimpleUploadedFile("log.pdf", body, content_type="application/pdf")},
        format="multipart",
    )
    assert upload.status_code == 201, upload.json()
    item = GapEvidence.objects.get(pk=upload.json()["id"])
    from cases.attachment_storage import attachment_storage

    with attachment_storage().open(item.storage_name, "rb") as stored:
        ciphertext = stored.read()
    assert b"crossing log" not in ciphertext and ciphertext.startswith(b"WGXA")
    content = api(gt_investigator).get(f"/api/v1/gap-evidence/{item.pk}/content/")
    assert content.status_code == 200 and b"".join(content.streaming_content) == body
    assert api(us_investigator).get(
        f"/api/v1/gap-evidence/{item.pk}/content/").status_code == 404
    assert api(us_investigator).get(f"/api/v1/gaps/{gap['id']}/evidence/").status_code == 404
    listed = api(gt_investigator).get(f"/api/v1/gaps/{gap['id']}/evidence/").json()
    assert [e["filename"] for e in listed["results"]] == ["log.pdf"]


def test_a_key_still_wrapping_gap_evidence_is_not_retired(api, mx_investigator, wg_keyring):
    from cases.key_rotation import RetireRefused, key_add, key_retire
    from core import keyring

    path = wg_keyring
    gap = _record(api, mx_investigator)
    upload = api(mx_investigator).post(
        f"/api/v1/gaps/{gap['id']}/evidence/",
        {"file": SimpleUploadedFile("n.txt", b"night log\n", content_type="text/plain")},
        format="multipart",
    )
    assert upload.status_code == 201, upload.json()
    old_key = GapEvidence.objects.get().key_id
    key_add(country="MX")
    with pytest.raises(RetireRefused, match="still wraps 1"):
        key_retire(key_id=old_key)
    assert old_key in keyring.read(path)["countries"]["MX"]["keys"]
