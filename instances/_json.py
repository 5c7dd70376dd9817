"""The one JSON-document reader of the files the tools write and read back (``plan.json``,
``siting.json``): a path or an already-parsed object in, a JSON object out, errors naming the field.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from optimizer.core.errors import InvalidInput


def read_json_object(source: Path | str | Mapping[str, Any], field: str, what: str) -> tuple[Mapping[str, Any], str]:
    """``(document, label)``: ``source`` parsed (a path; UTF-8 with or without BOM) or as given (a
    mapping); ``label`` is the path, or ``field`` for a mapping. Raises ``InvalidInput(field, ...)``
    for an unreadable file, text that is not JSON, or JSON that is not an object; ``what`` names the
    document in the message (``"the plan.json of lhasa-ops plan"``)."""
    if isinstance(source, Mapping):
        return source, field
    if not isinstance(source, (str, Path)):
        raise InvalidInput(field, type(source).__name__, f"expected a JSON object ({what})")
    label = str(source)
    try:
        doc = json.loads(Path(source).read_text(encoding="utf-8-sig"))
    except OSError as e:
        raise InvalidInput(field, label, f"cannot read the file: {e.strerror or e}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InvalidInput(field, label, f"not a JSON file: {e}") from None
    if not isinstance(doc, Mapping):
        raise InvalidInput(field, type(doc).__name__, f"expected a JSON object ({what})")
    return doc, label
