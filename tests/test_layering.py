"""The import-linter contracts of pyproject.toml (docs/architecture.md, "Layers"): they hold
on the real tree, and they fail on a copy of it with one planted violation each."""

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    return subprocess.run([str(LINT_IMPORTS), "--no-logo", "--no-cache"], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture
def tree(tmp_path) -> Path:
    """A copy of the project's packages and its pyproject.toml."""
    for package in CONFIG["root_packages"]:
        shutil.copytree(ROOT / package, tmp_path / package,
                        ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_real_tree_keeps_every_contract():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 2 kept, 0 broken." in result.stdout


def test_an_unchanged_copy_keeps_them_too(tree):
    result = lint_imports(tree)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("module", "source", "broken"),
    [
        # audit sits below workinggroup: no Country lookups from the audit filters
        ("audit/planted.py", "from workinggroup.models import Country\n",
         "audit is not allowed to import workinggroup"),
        # core imports no project app
        ("core/planted.py", "import audit\n", "core is not allowed to import audit"),
        # cases sits below sharing, even through a function-level import
        ("cases/planted.py", "def f():\n    from sharing import services\n",
         "cases is not allowed to import sharing"),
        # a service never raises DRF's exceptions
        ("cases/planted_services.py", "from rest_framework import exceptions\n",
         "cases is not allowed to import rest_framework"),
        ("web/planted.py", "from rest_framework.response import Response\n",
         "web is not allowed to import rest_framework"),
    ],
)
def test_a_planted_violation_breaks_a_contract(tree, module, source, broken):
    (tree / module).write_text(source)
    result = lint_imports(tree)
    assert result.returncode == 1, result.stdout + result.stderr
    assert broken in result.stdout
    planted = module.removesuffix(".py").replace("/", ".")
    assert f"{planted} -> " in result.stdout


def test_every_project_package_is_under_the_contracts():
    """A new top-level package (dashboard, plans) must be analysed, not silently skipped as
    an optional layer that does not exist."""
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")} - {"tests", "bench"}
    assert packages == set(CONFIG["root_packages"])
    [layers] = [c for c in CONFIG["contracts"] if c["type"] == "layers"]
    named = {tail.strip().strip("()") for layer in layers["layers"] for tail in layer.split("|")}
    assert set(CONFIG["root_packages"]) <= named
