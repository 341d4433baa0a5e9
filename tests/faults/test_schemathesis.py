"""API fuzzing: schemathesis against a running server (gunicorn, production settings, our own
PostgreSQL and Redis), with the tokens of an investigator, a liaison and an auditor of two
countries: every check (`--checks all`: no 5xx, responses, status codes and content types as
documented, bad input refused, valid input accepted, no access across countries through the
links), 25 examples per operation, every operation of the schema run. Bounded in time per
member.

Each member's budget is shared out between three runs, one per kind of phase, because
`--max-time` is spent phase after phase: in one run a slow coverage phase would leave the
fuzzing and the stateful (links) phases no time at all. The coverage run (with the schema's
examples) touches every operation, so it is where "every operation ran" is asserted, from its
JUnit report; the stateful run must play at least one scenario through the links.

tests/faults/schemathesis.toml lists the operations whose documented cross-field rules make a
schema-valid request a 400 (or a file type a 415), as schemathesis' own guidance for ST202
says to; nothing else is relaxed. Its hooks (tests/faults/schemathesis_hooks.py) drop the
stateful cases whose path parameter schemathesis took as null from a wildcard link: those
requests address another operation (a defect of schemathesis 4.32.5, described there).

Cross-country access: each member's run authenticates through a Web Fuzzing Commons auth
document holding all six tokens, pinned to that member, with the other country's three
members as its `peers`. `object_level_authorization` then replays every successful read of an
object by the member as each peer, and fails if a partner gets the object: nothing in these
runs shares anything (no liaison of the owner approves a request), so nothing may cross.
"""

import json
import os
import re
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

from tests.faults import services

PERSONAS = [f"{cc}.{role}" for cc in ("us", "mx")
            for role in ("investigator", "liaison", "auditor")]
CONFIG = Path(__file__).with_name("schemathesis.toml")
# Seconds per member, by run: 15 in all, as before the runs were split.
RUNS = (("examples,coverage", 6), ("fuzzing", 5), ("stateful", 4))
METHODS = {"get", "post", "put", "patch", "delete"}


def member_config(tmp_path: Path, tokens: dict, persona: str) -> Path:
    """The committed configuration, plus the member's identity and its partner peers."""
    auth = tmp_path / "auth.json"
    if not auth.exists():
        auth.write_text(json.dumps({"auth": [
            {"name": name, "fixedHeaders": [{"name": "Authorization",
                                             "value": f"Token {tokens[name]}"}]}
            for name in PERSONAS]}))
    partners = [name for name in PERSONAS if name[:2] != persona[:2]]
    config = tmp_path / f"{persona}.toml"
    config.write_text(CONFIG.read_text() + (
        f"\n[auth.wfc]\npath = {json.dumps(str(auth))}\nuser = {json.dumps(persona)}\n"
        f"peers = {json.dumps([persona, *partners])}\n"))
    return config


def run_schemathesis(schema: Path, port: int, config: Path, phases: str, seconds: int,
                     junit: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(services.BIN / "schemathesis"), "--config-file", str(config), "run", str(schema),
         "--url", f"http://127.0.0.1:{port}", "--checks", "all", "--phases", phases,
         "--max-examples", "25", "--max-time", str(seconds), "--seed", "16", "--workers", "1",
         "--no-color", "--report", "junit", "--report-junit-path", str(junit)],
        capture_output=True, text=True, timeout=seconds * 6 + 30,
        env={**os.environ, "PYTHONPATH": str(services.ROOT)},  # the config's hooks module
    )


def operations_tested(junit: Path) -> set[str]:
    """The operations the run reports as tested: one JUnit test case each."""
    return {case.get("name") for case in ET.parse(junit).iter("testcase")}


def generated(stdout: str) -> int:
    found = re.search(r"^\s*(\d+) generated", stdout, re.M)
    return int(found.group(1)) if found else 0


def test_schemathesis_finds_no_failure(drill, tmp_path):
    port = drill.web(LOOKUP_RATE_LIMIT_PER_HOUR="1000000")
    drill.worker(supervised=True)
    seeded = drill.seed()
    status, _, schema = services.request(
        port, "GET", "/api/schema/?format=json", token=seeded["tokens"]["us.investigator"])
    assert status == 200
    schema_path = tmp_path / "schema.json"
    schema_path.write_bytes(schema)
    operations = {f"{method.upper()} {path}"
                  for path, methods in json.loads(schema)["paths"].items()
                  for method in methods if method in METHODS}
    summary, failed, missing = {}, [], {}
    for persona in PERSONAS:
        summary[persona] = {}
        config = member_config(tmp_path, seeded["tokens"], persona)
        for phases, seconds in RUNS:
            junit = tmp_path / f"{persona}-{phases.replace(',', '-')}.xml"
            result = run_schemathesis(schema_path, port, config, phases, seconds, junit)
            counts = {"exit": result.returncode, "requests": generated(result.stdout)}
            if phases == "stateful":
                scenarios = re.search(r"Scenarios:\s+(\d+)", result.stdout)
                counts["scenarios"] = int(scenarios.group(1)) if scenarios else 0
            else:
                counts["operations"] = len(operations_tested(junit))
            if phases.endswith("coverage"):
                missing[persona] = sorted(operations - operations_tested(junit))
            summary[persona][phases] = counts
            if result.returncode != 0:
                failed.append(persona)
                print(f"\nschemathesis {phases} as {persona}: exit {result.returncode}\n"
                      f"{result.stdout[-12000:]}{result.stderr[-2000:]}")
    print(f"\n{len(operations)} operations in the schema")
    for persona, runs in summary.items():
        print(f"{persona}: {json.dumps(runs)}")
    assert failed == []
    assert missing == {persona: [] for persona in PERSONAS}  # every operation ran
    assert all(runs["stateful"]["scenarios"] > 0 for runs in summary.values())
