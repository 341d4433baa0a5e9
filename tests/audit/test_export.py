"""GET /api/v1/audit/export/: JSON Lines of the chain objects that the documented stand-alone
verifier accepts, in a process that does not import the project."""

import json

import orjson
import pytest

import audit
from audit import chain, checkpoints
from audit.models import AuditEntry
from tests.audit.conftest import a_case
from tests.audit.standalone import run, script

URL = "/api/v1/audit/export/"


@pytest.fixture
def chained(db, drain, stand_ins_shared, us_investigator, mx_investigator):
    for i in range(30):
        actor = us_investigator if i % 2 else mx_investigator
        case = a_case("GT" if i % 3 else "US")
        audit.record(
            "case.view",
            actor,
            target=("cases.case", str(case.pk)),
            case=case,
            note=f"Señal «{i}» \u2028 \x1f tab\t 漢字 😀 \"q\" \\",
            n=i,
            nested={"z": [1, {"é": None, "a": True}], "A": -(2**63)},
        )
    drain()


def export(client, **params):
    response = client.get(URL, params)
    assert response.status_code == 200, response.content
    return response, b"".join(response.streaming_content)


def test_the_export_verifies_with_the_documented_standalone_verifier(
    chained, api, oversight_auditor, tmp_path
):
    _, body = export(api(oversight_auditor))
    (tmp_path / "audit.jsonl").write_bytes(body)

    result = run("verify_export.py", tmp_path / "audit.jsonl", cwd=tmp_path)

    head = AuditEntry.objects.get(seq=30)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == f"OK: 30 entries, head #30 {head.hash}, 0 gap(s)\n"


def test_the_standalone_verifier_names_the_first_bad_seq_of_a_doctored_export(
    chained, api, oversight_auditor, tmp_path
):
    _, body = export(api(oversight_auditor))
    lines = body.splitlines(keepends=True)
    doctored = json.loads(lines[11])
    doctored["actor"] = "mallory"
    lines[11] = json.dumps(doctored).encode() + b"\n"
    (tmp_path / "audit.jsonl").write_bytes(b"".join(lines))

    result = run("verify_export.py", tmp_path / "audit.jsonl", cwd=tmp_path)

    assert result.returncode == 1
    assert result.stderr == "BROKEN: first bad seq 12: its content does not match its hash\n"


def test_the_standalone_verifier_refuses_readers_that_are_not_a_sorted_set(
    chained, api, oversight_auditor, tmp_path
):
    """Readers in the body are sorted and unique: a last line whose readers are not (its hash
    made to match, as a forger who re-chains would) is reported, not accepted."""
    _, body = export(api(oversight_auditor))
    lines = body.splitlines(keepends=True)
    last = json.loads(lines[-1])
    assert last["readers"] == sorted({last["actor_country"], last["case_country"]})
    del last["hash"]
    last["readers"] = ["US", "MX", "MX"]
    last["hash"] = chain.entry_hash(last["prev_hash"], last)
    lines[-1] = json.dumps(last).encode() + b"\n"
    (tmp_path / "audit.jsonl").write_bytes(b"".join(lines))

    result = run("verify_export.py", tmp_path / "audit.jsonl", cwd=tmp_path)

    assert result.returncode == 1
    assert result.stderr == "BROKEN: first bad seq 30: its readers are not a sorted set\n"


def test_a_dropped_line_is_a_gap_the_standalone_verifier_reports(
    chained, api, oversight_auditor, tmp_path
):
    _, body = export(api(oversight_auditor))
    lines = body.splitlines(keepends=True)
    del lines[4]
    (tmp_path / "audit.jsonl").write_bytes(b"".join(lines))

    result = run("verify_export.py", tmp_path / "audit.jsonl", cwd=tmp_path)

    assert result.returncode == 0
    assert result.stdout.endswith(", 1 gap(s)\n")


def test_checkpoints_verify_against_the_export_with_the_documented_script(
    chained, api, oversight_auditor, tmp_path
):
    checkpoints.checkpoint_create()
    client = api(oversight_auditor)
    _, body = export(client)
    (tmp_path / "audit.jsonl").write_bytes(body)
    (tmp_path / "checkpoints.json").write_bytes(client.get("/api/v1/audit/checkpoints/").content)

    result = run(
        "verify_checkpoints.py",
        tmp_path / "checkpoints.json",
        tmp_path / "audit.jsonl",
        cwd=tmp_path,
    )
    assert (result.returncode, result.stdout) == (0, "OK: 1 checkpoint(s) signed and matching\n")

    truncated = b"".join(body.splitlines(keepends=True)[:25])
    (tmp_path / "audit.jsonl").write_bytes(truncated)
    result = run(
        "verify_checkpoints.py",
        tmp_path / "checkpoints.json",
        tmp_path / "audit.jsonl",
        cwd=tmp_path,
    )
    assert result.returncode == 1
    assert result.stderr == "BROKEN: #30 is missing or differs from its signed checkpoint\n"


def test_each_line_is_exactly_the_chain_object(chained, api, oversight_auditor):
    from audit import chain

    _, body = export(api(oversight_auditor))
    lines = body.splitlines()
    assert len(lines) == 30
    for line, entry in zip(lines, AuditEntry.objects.order_by("seq"), strict=True):
        expected = {**chain.entry_dict(entry), "hash": entry.hash}
        assert line == orjson.dumps(expected, option=orjson.OPT_SORT_KEYS)


def test_the_export_is_json_lines_never_cached(chained, api, oversight_auditor):
    response, _ = export(api(oversight_auditor))
    assert response["Content-Type"] == "application/x-ndjson"
    assert "no-store" in response["Cache-Control"]
    assert response["Content-Disposition"].startswith('attachment; filename="audit-')


@pytest.mark.parametrize("accept", ["application/x-ndjson", "application/json", "*/*",
                                    "text/html"])
def test_the_export_answers_json_lines_whatever_the_accept_header(
    chained, api, oversight_auditor, accept
):
    """It advertises application/x-ndjson: asking for exactly that was a 406."""
    response = api(oversight_auditor).get(URL, HTTP_ACCEPT=accept)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/x-ndjson"
    assert len(b"".join(response.streaming_content).splitlines()) == 30


def test_a_bad_filter_of_an_ndjson_export_is_a_json_400(chained, api, oversight_auditor):
    response = api(oversight_auditor).get(URL, {"country": "%s"},
                                          HTTP_ACCEPT="application/x-ndjson")
    assert response.status_code == 400
    assert response.json()["detail"].startswith("country: ")


def test_a_country_auditor_exports_only_their_countrys_entries(chained, api, gt_auditor, tmp_path):
    _, body = export(api(gt_auditor))
    entries = [json.loads(line) for line in body.splitlines()]
    assert {e["seq"] for e in entries} == {
        e.seq for e in AuditEntry.objects.filter(case_country="GT")
    }
    (tmp_path / "gt.jsonl").write_bytes(body)
    result = run("verify_export.py", tmp_path / "gt.jsonl", cwd=tmp_path)
    assert result.returncode == 0 and "OK: 20 entries" in result.stdout


def test_filters_apply_to_the_export(chained, api, oversight_auditor):
    _, body = export(api(oversight_auditor), actor="mx.investigator", country="US")
    entries = [json.loads(line) for line in body.splitlines()]
    assert [e["seq"] for e in entries] == [1, 7, 13, 19, 25]


def test_a_bad_filter_is_a_400_naming_it(chained, api, oversight_auditor):
    response = api(oversight_auditor).get(URL, {"since": "last tuesday"})
    assert response.status_code == 400
    assert response.json()["detail"].startswith("since: ")


def test_an_export_is_audited_with_its_filters(chained, api, us_auditor, audit_log):
    export(api(us_auditor), outcome="success")
    [entry] = audit_log(action="audit.export")
    assert (entry.actor, entry.details) == ("us.auditor", {"filters": {"outcome": "success"}})


def test_the_verifier_in_the_doc_is_about_fifteen_lines():
    lines = [line for line in script("verify_export.py").splitlines() if line.strip()]
    assert len(lines) <= 16
