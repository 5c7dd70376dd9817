"""Write the OpenAPI document of the HTTP API to ``api/openapi.json`` (checked in).

``python -m api.http.openapi`` regenerates it; ``--check`` exits 1 when the file is out of date.
``tests/test_api_security.py`` checks that the served ``/openapi.json`` equals the file.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

OPENAPI_JSON = Path(__file__).resolve().parent.parent / "openapi.json"


def document() -> dict:
    from api.http.app import create_app

    return create_app().openapi()


def render(doc: dict) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    text = render(document())
    if "--check" in args:
        same = OPENAPI_JSON.exists() and OPENAPI_JSON.read_text(encoding="utf-8") == text
        print("api/openapi.json is up to date" if same else "api/openapi.json is OUT OF DATE: run python -m api.http.openapi")
        return 0 if same else 1
    OPENAPI_JSON.write_text(text, encoding="utf-8")
    print(f"wrote {OPENAPI_JSON}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
