"""The Spanish catalogue is complete: makemessages finds nothing new, nothing is fuzzy or
empty, and no msgstr merely repeats its English msgid (except codes and names)."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "locale" / "es" / "LC_MESSAGES" / "django.po"
# Identical in both languages on purpose: codes, names, and words Spanish borrows.
SAME_IN_SPANISH = {"OK", "API", "ID", "TOTP", "H0", "H1", "H2", "H3", "Email", "E-mail",
                   "Token", "Tokens", "Auditor", "Español", "English", "%(name)s", "Total",
                   "Plan"}


def entries(text):
    import ast
    import re

    for block in text.split("\n\n")[1:]:
        if "msgid " not in block or block.lstrip().startswith("#~"):
            continue  # no entry, or an obsolete one (gettext ignores those)
        yield block, [
            "".join(ast.literal_eval(s) for s in re.findall(r'"(?:[^"\\]|\\.)*"', part))
            for part in re.split(r"\nmsgid_plural |\nmsgstr(?:\[\d\])? ",
                                 block.split("msgid ", 1)[1])
        ]


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory):
    """The catalogue as makemessages leaves it after reading today's code."""
    if not shutil.which("xgettext"):
        pytest.skip("gettext is not installed (apt-get install gettext)")
    copy = tmp_path_factory.mktemp("po") / "django.po"
    shutil.copy(PO, copy)
    try:
        subprocess.run(  # noqa: S603 (our own manage.py)
            [sys.executable, "manage.py", "makemessages", "-l", "es", "--no-location",
             "-i", ".venv/*", "-i", "var/*", "-i", "bench/*", "-i", "tests/*"],
            cwd=ROOT, check=True, capture_output=True,
        )
        return PO.read_text(encoding="utf-8")
    finally:
        shutil.copy(copy, PO)


def test_makemessages_leaves_no_empty_fuzzy_or_untranslated_entry(regenerated):
    problems = []
    for block, (msgid, *translations) in entries(regenerated):
        if "#, fuzzy" in block:
            problems.append(f"fuzzy: {msgid!r}")
        elif any(not t for t in translations[-1:]) or not translations:
            problems.append(f"empty: {msgid!r}")
        elif msgid == translations[-1] and msgid not in SAME_IN_SPANISH:
            problems.append(f"same as English: {msgid!r}")
    assert not problems, "\n".join(problems)
