"""The layers hold: import-linter checks the contracts in pyproject.toml on the real package.

Views (CLI, HTTP API) > the Desk that composes > services > stages > sources and store > items;
nothing below the top imports the Desk (TYPE_CHECKING imports count); views never import
the store; only the store imports a database driver. Each contract is also shown to break
on a copy of the package given one bad import.
"""

from __future__ import annotations

import os
import pkgutil
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

pytest.importorskip("importlinter", reason="import-linter is not installed (pip install -e '.[test]')")

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
TOP = {"newsdesk.api", "newsdesk.cli", "newsdesk.evaluate", "newsdesk.desk"}


def lint(src: Path = SRC) -> subprocess.CompletedProcess[str]:
    """Runs lint-imports on the package found under `src`, with the project's contracts."""
    env = {**os.environ, "PYTHONPATH": str(src), "COLUMNS": "200"}
    command = "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())"
    return subprocess.run(
        [sys.executable, "-c", command, str(ROOT / "pyproject.toml"), "--no-cache", "--no-logo"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )


def contracts() -> dict[str, dict]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return {c["name"]: c for c in config["tool"]["importlinter"]["contracts"]}


def top_modules() -> set[str]:
    return {f"newsdesk.{m.name}" for m in pkgutil.iter_modules([str(SRC / "newsdesk")])}


def test_the_contracts_hold():
    result = lint()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_the_contracts_name_every_module():
    """A new top-level module falls under the Desk and database rules until named as a view."""
    found = top_modules()
    below = set(contracts()["Nothing below the top imports the Desk"]["source_modules"])
    assert below | TOP == found, f"not named in the contract: {sorted(found - below - TOP)}"
    db = set(contracts()["Only the store speaks to a database"]["source_modules"])
    assert db | {"newsdesk.store"} == found, f"not named in the contract: {sorted(found - db)}"


BAD_IMPORTS = [
    # (file, line added, the contract it breaks)
    ("nlp/stage.py", "if TYPE_CHECKING:\n    from newsdesk.desk import Desk  # noqa\n",
     "Nothing below the top imports the Desk"),
    ("stories/edits.py", "from newsdesk.stories.api import StoriesService  # noqa\n",
     "Layers: views > desk > services > stages > sources, store > items"),
    ("api/web.py", "from newsdesk.store.items import to_iso  # noqa\n",
     "Views call the desk's services, never the store"),
    ("search.py", "import sqlite3  # noqa\n", "Only the store speaks to a database"),
]


@pytest.mark.parametrize(("path", "line", "contract"), BAD_IMPORTS, ids=[b[0] for b in BAD_IMPORTS])
def test_a_bad_import_breaks_its_contract(tmp_path, path, line, contract):
    shutil.copytree(SRC / "newsdesk", tmp_path / "newsdesk",
                    ignore=lambda d, names: [n for n in names if not (n.endswith(".py") or "." not in n)])
    target = tmp_path / "newsdesk" / path
    text = target.read_text()
    cut = text.index("\n\n", text.index('"""', 3)) + 2  # after the module docstring
    if "TYPE_CHECKING" in line and "from typing import" not in line:
        line = "from typing import TYPE_CHECKING  # noqa\n" + line
    target.write_text(text[:cut] + line + text[cut:])
    result = lint(tmp_path)
    assert result.returncode != 0, result.stdout
    assert f"{contract} BROKEN" in result.stdout, result.stdout
