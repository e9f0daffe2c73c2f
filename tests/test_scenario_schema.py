"""The JSON Schema export: dialect, descriptions, closed objects, and the checked-in copy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kubeflow_tui.scenario import SCHEMA_PATH, render_schema, scenario_json_schema

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


def _objects(node):
    if isinstance(node, dict):
        if node.get("type") == "object" and "properties" in node:
            yield node
        for v in node.values():
            yield from _objects(v)
    elif isinstance(node, list):
        for v in node:
            yield from _objects(v)


def test_schema_header():
    s = scenario_json_schema()
    assert s["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert s["title"] == "kubeflow-tui scenario"
    assert {"name", "cluster"} <= set(s["required"])
    assert "from" in s["$defs"]["Flow"]["properties"]  # the YAML spelling, not from_


def test_every_object_is_closed_and_described():
    s = scenario_json_schema()
    objs = list(_objects(s))
    assert len(objs) >= 11
    for obj in objs:
        assert obj["additionalProperties"] is False, obj.get("title")
        assert obj.get("description"), obj.get("title")
        for name, prop in obj["properties"].items():
            assert prop.get("description"), f"{obj.get('title')}.{name}"


def test_checked_in_schema_is_up_to_date():
    assert SCHEMA_PATH.read_text(encoding="utf-8") == render_schema(), (
        "scenario.schema.json is stale: run python -m kubeflow_tui.scenario"
    )


def test_shipped_scenarios_match_the_schema():
    jsonschema = pytest.importorskip("jsonschema")
    import yaml

    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA_PATH.read_text()))
    for f in sorted(SCENARIOS.glob("*.yaml")):
        errors = list(validator.iter_errors(yaml.safe_load(f.read_text())))
        assert not errors, f"{f.name}: {errors[0].message}"
