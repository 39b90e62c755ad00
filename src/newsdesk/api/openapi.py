"""The OpenAPI spec of the API, as committed in docs/openapi.json.

    python -m newsdesk.api.openapi docs/openapi.json
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any


def spec() -> dict[str, Any]:
    """Returns the OpenAPI document the app serves at /openapi.json."""
    from newsdesk.api import create_app
    from newsdesk.desk import Desk

    with tempfile.TemporaryDirectory() as tmp:
        desk = Desk(Path(tmp) / "spec.db", stages=[])
        try:
            return create_app(desk).openapi()
        finally:
            desk.close()


def render() -> str:
    """Returns the spec as the committed file holds it."""
    return json.dumps(spec(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else "docs/openapi.json"
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(render(), encoding="utf-8")
    print(f"wrote {out}")
