"""The stand-alone verifiers of docs/audit.md, extracted from the page and run in a fresh
interpreter that cannot import the project (isolated mode, empty environment, a temp folder)."""

import re
import subprocess
import sys
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "audit.md"


def script(name: str) -> str:
    """The ```python block of docs/audit.md whose first line is `# <name>: ...`."""
    match = re.search(rf"```python\n(# {re.escape(name)}:.*?)```", DOC.read_text(), re.S)
    assert match, f"docs/audit.md has no {name} block"
    return match.group(1)


def run(name: str, *files: Path, cwd: Path) -> subprocess.CompletedProcess:
    path = cwd / name
    path.write_text(script(name))
    return subprocess.run(
        [sys.executable, "-I", str(path), *map(str, files)],
        cwd=cwd,
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
