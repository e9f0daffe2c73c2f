"""The models on their own (built in Python, not from YAML) and the cross-reference
checks that the loader tests do not reach."""

from __future__ import annotations

import pytest
import yaml
from pydantic import ValidationError

from kubeflow_tui.scenario import Scenario, ScenarioError, cross_check, load_scenario_text

from test_scenario_loader import BASE

DATA = yaml.safe_load(BASE)


def test_python_construction_is_lax_and_checked():
    s = Scenario.model_validate(DATA)
    assert cross_check(s) == []
    assert s.endpoints(s.service("web")) == [s.pod("web-1"), s.pod("web-2")]
    assert s.service("web").selects(s.pod("web-1"))
    with pytest.raises(KeyError):
        s.pod("nope")
    # a cross-reference problem raised as a normal pydantic error, with its place in ctx
    bad = yaml.safe_load(BASE.replace("    node: node-b\n", "    node: node-c\n"))
    with pytest.raises(ValidationError) as info:
        Scenario.model_validate(bad)
    (err,) = info.value.errors()
    assert err["ctx"]["at"] == ("pods", 1, "node")
    assert err["msg"] == "node 'node-c' does not exist; did you mean 'node-b'?"


def _msg(old: str, new: str, count: int = 1) -> str:
    assert BASE.count(old) == count, old
    with pytest.raises(ScenarioError) as info:
        load_scenario_text(BASE.replace(old, new), "t.yaml")
    return info.value.format_all()


TIMELINE_END = "  - {action: scale, deployment: web, replicas: 3}\n"


@pytest.mark.parametrize(
    "event,expected",
    [
        ("{action: add-pod, newPod: {name: web-1, node: node-a, ip: 10.244.1.9}}",
         "t.yaml:41:38: timeline[2].newPod.name: pod 'web-1' already exists"),
        ("{action: add-pod, newPod: {name: web-2, node: node-a, ip: 10.244.1.9}}", None),
        ("{action: add-pod, newPod: {name: web-9, node: node-q, ip: 10.244.1.9}}",
         "t.yaml:41:51: timeline[2].newPod.node: node 'node-q' does not exist; did you mean 'node-b'?"),
        ("{action: add-pod, newPod: {name: web-9, node: node-a, ip: 10.244.2.9}}",
         "t.yaml:41:63: timeline[2].newPod.ip: pod IP 10.244.2.9 is not a usable address of node "
         "node-a's podCIDR 10.244.1.0/24"),
        ("{action: add-pod, newPod: {name: web-9, node: node-a, ip: 10.244.1.5}}",
         "t.yaml:41:63: timeline[2].newPod.ip: 10.244.1.5 is already used by pod web-1"),
        ("{action: delete-service, service: web}", None),
        ("{action: set-selector, service: web}",
         "t.yaml:41:5: timeline[2]: action set-selector needs selector"),
        ("{action: explode}",
         "t.yaml:41:14: timeline[2].action: expected 'scale', 'delete-pod', 'delete-service', "
         "'set-selector', 'add-pod' or 'full-resync', got the string 'explode'"),
    ],
)
def test_timeline_events(event, expected):
    text = BASE + f"  - {event}\n"
    if expected is None:
        load_scenario_text(text)
    else:
        with pytest.raises(ScenarioError) as info:
            load_scenario_text(text, "t.yaml")
        assert info.value.format_all() == expected


def test_events_follow_the_timeline():
    # a deleted Service cannot have its selector changed later
    text = BASE + "  - {action: delete-service, service: web}\n  - {action: set-selector, service: web, selector: {a: b}}\n"
    with pytest.raises(ScenarioError) as info:
        load_scenario_text(text, "t.yaml")
    assert str(info.value) == (
        "t.yaml:42:37: timeline[3].service: Service 'web' does not exist at this point of the "
        "timeline (known: none)"
    )


def test_veth_names_must_not_collide():
    text = BASE.replace("  - name: web-1\n", "  - name: web-abcdef-1\n").replace(
        "  - name: web-2\n    node: node-b\n", "  - name: web-abcdef-2\n    node: node-a\n"
    ).replace("ip: 10.244.2.5", "ip: 10.244.1.6").replace("endpoint: web-1", "endpoint: web-abcdef-1")
    text = text.replace("from: web-2", "from: user").replace("pod: web-2}", "pod: web-abcdef-2}")
    with pytest.raises(ScenarioError) as info:
        load_scenario_text(text, "t.yaml")
    assert info.value.format_all() == (
        "t.yaml:15:11: pods[1].name: pods web-abcdef-1 and web-abcdef-2 on node node-a would both "
        "get interface 'veth-web-abcdef' (names are cut to 15 characters); shorten one"
    )


def test_name_clashes_between_kinds():
    assert _msg("  - {name: user, ip: 192.168.1.2}", "  - {name: node-a, ip: 192.168.1.2}") == (
        "t.yaml:30:12: clients[0].name: client name 'node-a' is also a node name; flows could not "
        "tell them apart\n"
        "t.yaml:36:22: flows[0].from: 'user' is not a client, pod or node"
    )


def test_health_check_node_port():
    assert _msg("    selector: {app: web}\n    ports:\n", "    healthCheckNodePort: 30080\n    selector: {app: web}\n    ports:\n") == (
        "t.yaml:25:26: services[0].healthCheckNodePort: healthCheckNodePort needs "
        "externalTrafficPolicy Local"
    )
    assert _msg("    selector: {app: web}\n    ports:\n",
                "    externalTrafficPolicy: Local\n    healthCheckNodePort: 30080\n    selector: {app: web}\n    ports:\n") == (
        "t.yaml:26:26: services[0].healthCheckNodePort: healthCheckNodePort 30080 is also a nodePort"
    )


def test_network_plans_must_not_overlap():
    assert _msg("cluster:\n  nodes:\n", "cluster:\n  serviceCIDR: 10.240.0.0/12\n  nodes:\n").startswith(
        "t.yaml:3:16: cluster.serviceCIDR: serviceCIDR 10.240.0.0/12 overlaps clusterCIDR 10.244.0.0/16"
    )


def test_multi_port_service_needs_names():
    assert _msg("{name: alt, port: 9090", "{port: 9090") == (
        "t.yaml:28:9: services[0].ports[1]: every port needs a name when a Service has more than one"
    )


def test_vip_flows_only_through_listed_nodes():
    assert _msg("nodes: [node-a, node-b]", "nodes: [node-b]") == (
        "t.yaml:36:57: flows[0].via: node 'node-a' is not one of the load balancer's nodes (node-b)"
    )
