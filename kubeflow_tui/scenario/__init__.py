"""Scenarios: the pydantic schema, the YAML loader with ``file:line:col`` errors, and
the JSON Schema export.

>>> from kubeflow_tui.scenario import load_scenario
>>> s = load_scenario("scenarios/clusterip.yaml")      # doctest: +SKIP
>>> s.flow("pod-same-node").to                          # doctest: +SKIP
'10.96.0.1:8080'
"""

from .crosscheck import cross_check
from .errors import ErrorDetail, ScenarioError
from .loader import MAX_ALIASES, MAX_BYTES, MAX_DEPTH, MAX_NODES, load_scenario, load_scenario_text
from .models import (
    Client,
    Cluster,
    ContainerPort,
    Event,
    Flow,
    LoadBalancer,
    Node,
    Pod,
    Scenario,
    Service,
    ServicePort,
)
from .schema import SCHEMA_PATH, render_schema, scenario_json_schema, write_schema_file

__all__ = [
    "Client",
    "Cluster",
    "ContainerPort",
    "ErrorDetail",
    "Event",
    "Flow",
    "LoadBalancer",
    "MAX_ALIASES",
    "MAX_BYTES",
    "MAX_DEPTH",
    "MAX_NODES",
    "Node",
    "Pod",
    "SCHEMA_PATH",
    "Scenario",
    "ScenarioError",
    "Service",
    "ServicePort",
    "cross_check",
    "load_scenario",
    "load_scenario_text",
    "render_schema",
    "scenario_json_schema",
    "write_schema_file",
]
