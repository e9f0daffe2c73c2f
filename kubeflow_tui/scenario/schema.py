"""JSON Schema (draft 2020-12) of a scenario file, for editors and ``kubeflow-tui schema``.

The copy in ``scenario.schema.json`` is generated; regenerate it with
``python -m kubeflow_tui.scenario`` (a test checks it is up to date).  A scenario
file can point its editor at it::

    # yaml-language-server: $schema=../kubeflow_tui/scenario/scenario.schema.json
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .models import Scenario

SCHEMA_PATH = Path(__file__).with_name("scenario.schema.json")
SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def _close_objects(node: Any) -> None:
    """additionalProperties: false on every object with declared properties."""
    if isinstance(node, dict):
        if node.get("type") == "object" and "properties" in node:
            node.setdefault("additionalProperties", False)
        for v in node.values():
            _close_objects(v)
    elif isinstance(node, list):
        for v in node:
            _close_objects(v)


def scenario_json_schema() -> dict[str, Any]:
    """The scenario schema as a JSON Schema (draft 2020-12) document."""
    body = Scenario.model_json_schema(by_alias=True, mode="validation")
    _close_objects(body)
    body.pop("title", None)
    return {
        "$schema": SCHEMA_DIALECT,
        "$id": "https://kubeflow-tui.invalid/scenario.schema.json",
        "title": "kubeflow-tui scenario",
        **body,
    }


def render_schema() -> str:
    """The schema as the text of ``scenario.schema.json``."""
    return json.dumps(scenario_json_schema(), indent=2, ensure_ascii=False) + "\n"


def write_schema_file(path: str | Path = SCHEMA_PATH) -> Path:
    """(Re)write the schema file; returns its path."""
    path = Path(path)
    path.write_text(render_schema(), encoding="utf-8")
    return path


if __name__ == "__main__":  # pragma: no cover
    print(write_schema_file())
