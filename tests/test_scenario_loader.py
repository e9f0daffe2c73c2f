"""The scenario loader: exact ``file:line:col: field: message`` errors for each kind of
bad input, the size/alias/encoding guards, and the error object itself."""

from __future__ import annotations

import time

import pytest

from kubeflow_tui.scenario import (
    MAX_BYTES,
    ErrorDetail,
    Scenario,
    ScenarioError,
    load_scenario,
    load_scenario_text,
)

# A valid scenario that exercises every section; each case below changes one thing.
BASE = """\
name: t
cluster:
  nodes:
    - {name: node-a, ip: 192.168.1.10, podCIDR: 10.244.1.0/24}
    - {name: node-b, ip: 192.168.1.11, podCIDR: 10.244.2.0/24}
  systemServices: false  # web keeps 10.96.0.1
pods:
  - name: web-1
    node: node-a
    ip: 10.244.1.5
    deployment: web
    labels: {app: web}
    ports:
      - {name: http, containerPort: 8080}
  - name: web-2
    node: node-b
    ip: 10.244.2.5
    deployment: web
    labels: {app: web}
services:
  - name: web
    type: LoadBalancer
    clusterIP: 10.96.0.1
    loadBalancerIP: 203.0.113.5
    selector: {app: web}
    ports:
      - {name: http, port: 8080, targetPort: http, nodePort: 30080}
      - {name: alt, port: 9090, targetPort: 8080, nodePort: 30090}
clients:
  - {name: user, ip: 192.168.1.2}
loadBalancer:
  ip: 192.168.1.100
  style: proxy
  nodes: [node-a, node-b]
flows:
  - {name: lb, from: user, to: "203.0.113.5:8080", via: node-a}
  - {name: pinned, from: web-2, to: "10.96.0.1:8080", endpoint: web-1}
timeline:
  - {action: delete-pod, pod: web-2}
  - {action: scale, deployment: web, replicas: 3}
"""


def test_base_is_valid():
    s = load_scenario_text(BASE, "t.yaml")
    assert isinstance(s, Scenario)
    assert s.flow("pinned").endpoint == "web-1"
    assert s.flow("lb").from_ == "user"
    assert s.service("default/web").ports[1].target == 8080


# (id, text to replace in BASE, replacement, the exact str() of the error)
CASES = [
    ('unknown-key', '  style: proxy\n', '  style: proxy\n  colour: red\n',
     "t.yaml:34:3: loadBalancer.colour: unknown key 'colour' (allowed here: name, ip, style, nodes)"),
    ('unknown-key-typo', 'podCIDR: 10.244.2.0/24}', 'podCidr: 10.244.2.0/24}',
     "t.yaml:5:40: cluster.nodes[1].podCidr: unknown key 'podCidr'; did you mean 'podCIDR'?"),
    ('unknown-top', 'name: t\n', 'name: t\nflow: []\n',
     "t.yaml:2:1: flow: unknown key 'flow'; did you mean 'flows'?"),
    ('missing-key', '    ip: 10.244.2.5\n', '',
     "t.yaml:15:5: pods[1].ip: missing required key 'ip'"),
    ('wrong-type-int', 'port: 9090', "port: '9090'",
     "t.yaml:28:27: services[0].ports[1].port: expected an integer, got the string '9090'"),
    ('wrong-type-str', 'labels: {app: web}\nservices:', 'labels: {app: 1}\nservices:',
     't.yaml:19:19: pods[1].labels.app: expected a string, got the number 1 (quote it to make it a string)'),
    ('wrong-type-list', '  nodes: [node-a, node-b]', '  nodes: node-a',
     "t.yaml:34:10: loadBalancer.nodes: expected a sequence, got the string 'node-a'"),
    ('wrong-type-map', 'clients:\n  - {name: user, ip: 192.168.1.2}', 'clients:\n  - user',
     "t.yaml:30:5: clients[0]: expected a mapping, got the string 'user'"),
    ('wrong-type-bool', '    deployment: web\n    labels: {app: web}\n    ports:', '    ready: yes please\n    deployment: web\n    labels: {app: web}\n    ports:',
     "t.yaml:11:12: pods[0].ready: expected true or false, got the string 'yes please'"),
    ('target-port-type', 'targetPort: 8080,', 'targetPort: [8080],',
     't.yaml:28:45: services[0].ports[1].targetPort: expected an integer or a string, got a sequence'),
    ('target-port-range', 'targetPort: 8080,', 'targetPort: 70000,',
     't.yaml:28:45: services[0].ports[1].targetPort: targetPort 70000 must be between 1 and 65535'),
    ('literal', 'style: proxy', 'style: nat',
     "t.yaml:33:10: loadBalancer.style: expected 'vip' or 'proxy', got the string 'nat'"),
    ('bad-ip', 'ip: 10.244.1.5', 'ip: 10.244.1.256',
     "t.yaml:10:9: pods[0].ip: '10.244.1.256' is not a valid IPv4 address"),
    ('bad-cidr', 'podCIDR: 10.244.2.0/24', 'podCIDR: 10.244.2.0/33',
     "t.yaml:5:49: cluster.nodes[1].podCIDR: '10.244.2.0/33' is not a valid IPv4 CIDR"),
    ('host-bits', 'podCIDR: 10.244.2.0/24', 'podCIDR: 10.244.2.9/24',
     "t.yaml:5:49: cluster.nodes[1].podCIDR: '10.244.2.9/24' has host bits set (did you mean 10.244.2.0/24?)"),
    ('bad-port', 'port: 9090', 'port: 0',
     't.yaml:28:27: services[0].ports[1].port: must be greater than or equal to 1, got the number 0'),
    ('bad-to', '"10.96.0.1:8080"', '"10.96.0.1"',
     "t.yaml:37:37: flows[1].to: '10.96.0.1' is not IP:PORT, e.g. 10.96.0.1:8080"),
    ('bad-to-port', '"10.96.0.1:8080"', '"10.96.0.1:99999"',
     "t.yaml:37:37: flows[1].to: port 99999 in '10.96.0.1:99999' must be between 1 and 65535"),
    ('dup-key', '    ip: 10.244.2.5\n', '    ip: 10.244.2.5\n    ip: 10.244.2.6\n',
     "t.yaml:18:5: pods[1].ip: duplicate key 'ip' (first at line 17)"),
    ('pod-node', '    node: node-b\n', '    node: node-c\n',
     "t.yaml:16:11: pods[1].node: node 'node-c' does not exist; did you mean 'node-b'?"),
    ('pod-ip-cidr', 'ip: 10.244.2.5', 'ip: 10.244.3.5',
     "t.yaml:17:9: pods[1].ip: pod IP 10.244.3.5 is not inside node node-b's podCIDR 10.244.2.0/24"),
    ('pod-gateway', 'ip: 10.244.2.5', 'ip: 10.244.2.1',
     "t.yaml:17:9: pods[1].ip: pod IP 10.244.2.1 is node node-b's pod gateway (first host of 10.244.2.0/24)"),
    ('podcidr-outside', 'podCIDR: 10.244.2.0/24', 'podCIDR: 10.245.2.0/24',
     't.yaml:5:49: cluster.nodes[1].podCIDR: podCIDR 10.245.2.0/24 is not inside clusterCIDR 10.244.0.0/16\n(and 1 more error)'),
    ('podcidr-overlap', 'podCIDR: 10.244.2.0/24', 'podCIDR: 10.244.0.0/22',
     "t.yaml:5:49: cluster.nodes[1].podCIDR: podCIDR 10.244.0.0/22 overlaps node node-a's podCIDR 10.244.1.0/24"),
    ('node-ip-outside', 'ip: 192.168.1.11', 'ip: 192.168.2.11',
     't.yaml:5:26: cluster.nodes[1].ip: node IP 192.168.2.11 is not a host address in nodeNetwork 192.168.1.0/24'),
    ('node-ip-dup', 'ip: 192.168.1.11', 'ip: 192.168.1.10',
     't.yaml:5:26: cluster.nodes[1].ip: 192.168.1.10 is already used by node node-a'),
    ('node-ip-router', 'ip: 192.168.1.11', 'ip: 192.168.1.1',
     "t.yaml:5:26: cluster.nodes[1].ip: 192.168.1.1 is the node network's default router (first host of 192.168.1.0/24); pick another address"),
    ('ip-dup-across', 'name: user, ip: 192.168.1.2', 'name: user, ip: 192.168.1.100',
     't.yaml:30:22: clients[0].ip: 192.168.1.100 is already used by load balancer lb'),
    ('pod-ip-dup', '    node: node-b\n    ip: 10.244.2.5', '    node: node-a\n    ip: 10.244.1.5',
     't.yaml:17:9: pods[1].ip: 10.244.1.5 is already used by pod web-1'),
    ('clusterip-outside', 'clusterIP: 10.96.0.1', 'clusterIP: 10.200.0.1',
     't.yaml:23:16: services[0].clusterIP: clusterIP 10.200.0.1 is not inside serviceCIDR 10.96.0.0/12\n(and 1 more error)'),
    ('nodeport-range', 'nodePort: 30090', 'nodePort: 8080',
     't.yaml:28:61: services[0].ports[1].nodePort: nodePort 8080 is outside the NodePort range 30000-32767'),
    ('nodeport-dup', 'nodePort: 30090', 'nodePort: 30080',
     't.yaml:28:61: services[0].ports[1].nodePort: duplicate nodePort 30080/TCP (also ports[0])'),
    ('nodeport-missing', ', nodePort: 30090}', '}',
     't.yaml:28:9: services[0].ports[1]: type LoadBalancer needs an explicit nodePort (30000-32767) on every port; none is allocated for you'),
    ('nodeport-clusterip', '    type: LoadBalancer\n', '    type: ClusterIP\n',
     't.yaml:27:62: services[0].ports[0].nodePort: nodePort is only allowed for type NodePort or LoadBalancer'),
    ('lb-needs-ip', '    loadBalancerIP: 203.0.113.5\n', '',
     "t.yaml:21:5: services[0]: type LoadBalancer needs loadBalancerIP (the balancer's address)"),
    ('lb-ip-inside', 'loadBalancerIP: 203.0.113.5', 'loadBalancerIP: 192.168.1.200',
     "t.yaml:24:21: services[0].loadBalancerIP: loadBalancerIP 192.168.1.200 is inside nodeNetwork 192.168.1.0/24; use an address outside the cluster's networks, e.g. 203.0.113.5\n(and 2 more errors)"),
    ('client-unknown-node', '  - {name: user, ip: 192.168.1.2}', '  - {name: user, ip: 192.168.1.2}\n  - {name: shell, kind: node, node: node-x}',
     "t.yaml:31:37: clients[1].node: node 'node-x' does not exist; did you mean 'node-b'?"),
    ('client-unknown-pod', '  - {name: user, ip: 192.168.1.2}', '  - {name: user, ip: 192.168.1.2}\n  - {name: shell, kind: pod, pod: web-9}',
     "t.yaml:31:35: clients[1].pod: pod 'web-9' does not exist; did you mean 'web-2'?"),
    ('client-kind-fields', '  - {name: user, ip: 192.168.1.2}', '  - {name: user, kind: node, node: node-a, ip: 192.168.1.2}',
     't.yaml:30:48: clients[0].ip: ip is only for clients of kind external'),
    ('flow-from', 'from: web-2,', 'from: web-3,',
     "t.yaml:37:26: flows[1].from: 'web-3' is not a client, pod or node; did you mean 'web-2'?"),
    ('flow-endpoint', 'endpoint: web-1', 'endpoint: web-3',
     "t.yaml:37:65: flows[1].endpoint: pod 'web-3' does not exist; did you mean 'web-2'?"),
    ('flow-endpoint-not-selected', '    labels: {app: web}\n    ports:', '    labels: {app: api}\n    ports:',
     "t.yaml:37:65: flows[1].endpoint: pod 'web-1' is not selected by Service default/web, so it can never be the endpoint"),
    ('flow-via', 'via: node-a', 'via: node-z',
     "t.yaml:36:57: flows[0].via: node 'node-z' does not exist; did you mean 'node-b'?"),
    ('flow-via-missing', ', via: node-a}', '}',
     't.yaml:36:5: flows[0]: this flow goes through the load balancer: say which node it picks with via'),
    ('flow-via-not-lb', 'endpoint: web-1}', 'endpoint: web-1, via: node-a}',
     't.yaml:37:77: flows[1].via: via is only for flows from an external client to a loadBalancerIP'),
    ('flow-needs-lb', 'loadBalancer:\n  ip: 192.168.1.100\n  style: proxy\n  nodes: [node-a, node-b]\n', '',
     "t.yaml:32:32: flows[0].to: 203.0.113.5 is Service default/web's loadBalancerIP: a flow from an external client to it needs a loadBalancer section"),
    ('flow-to-unknown', '"10.96.0.1:8080"', '"10.96.0.2:8080"',
     "t.yaml:37:37: flows[1].to: 10.96.0.2 is not an address in this scenario (a Service's clusterIP, externalIP or loadBalancerIP, a node, a pod)"),
    ('flow-dup-name', 'name: pinned,', 'name: lb,',
     "t.yaml:37:12: flows[1].name: duplicate flow name 'lb' (also flows[0])"),
    ('lb-nodes', 'nodes: [node-a, node-b]', 'nodes: [node-a, node-c]',
     "t.yaml:34:19: loadBalancer.nodes[1]: node 'node-c' does not exist; did you mean 'node-b'?"),
    ('event-pod', 'pod: web-2}', 'pod: web-7}',
     "t.yaml:39:31: timeline[0].pod: pod 'web-7' does not exist at this point of the timeline; did you mean 'web-2'?"),
    ('event-pod-twice', '  - {action: scale, deployment: web, replicas: 3}', '  - {action: delete-pod, pod: web-2}',
     "t.yaml:40:31: timeline[1].pod: pod 'web-2' does not exist at this point of the timeline; did you mean 'web-1'?"),
    ('event-deployment', 'deployment: web, replicas', 'deployment: api, replicas',
     "t.yaml:40:33: timeline[1].deployment: deployment 'api' does not exist (known: web)"),
    ('event-needs', ', replicas: 3}', '}',
     't.yaml:40:5: timeline[1]: action scale needs replicas'),
    ('event-extra-field', ', replicas: 3}', ', replicas: 3, pod: web-1}',
     't.yaml:40:56: timeline[1].pod: pod is not used by action scale'),
    ('event-service', '  - {action: scale, deployment: web, replicas: 3}', '  - {action: set-selector, service: default/api, selector: {a: b}}',
     "t.yaml:40:37: timeline[1].service: Service 'default/api' does not exist at this point of the timeline; did you mean 'default/web'?"),
    ('dup-node-name', 'name: node-b, ip', 'name: node-a, ip',
     "t.yaml:5:14: cluster.nodes[1].name: duplicate node name 'node-a' (also cluster.nodes[0])\n(and 2 more errors)"),
    ('dup-pod-name', '  - name: web-2\n', '  - name: web-1\n',
     "t.yaml:15:11: pods[1].name: duplicate pod name 'web-1' (also pods[0]); pod names must be unique across namespaces\n(and 2 more errors)"),
    ('name-pattern', '  - name: web-2\n', '  - name: Web_2\n',
     "t.yaml:15:11: pods[1].name: 'Web_2' is not a valid name: use lowercase letters, digits and '-', starting and ending with a letter or digit"),
    ('two-errors', 'port: 9090, targetPort: 8080', 'port: 0, targetPort: x_y',
     't.yaml:28:27: services[0].ports[1].port: must be greater than or equal to 1, got the number 0\n(and 1 more error)'),
]


@pytest.mark.parametrize("old,new,expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_error_message(old, new, expected):
    assert BASE.count(old) == 1, "the case must change exactly one place"
    with pytest.raises(ScenarioError) as info:
        load_scenario_text(BASE.replace(old, new), "t.yaml")
    assert str(info.value) == expected


def _err(text: str, source: str = "t.yaml") -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        load_scenario_text(text, source)
    return info.value


# ------------------------------------------------------------------ the error object


def test_error_attributes_and_list():
    e = _err(BASE.replace("port: 9090, targetPort: 8080", "port: 0, targetPort: x_y"))
    assert (e.source, e.line, e.column, e.field) == ("t.yaml", 28, 27, "services[0].ports[1].port")
    assert e.message == "must be greater than or equal to 1, got the number 0"
    assert [str(x) for x in e.errors] == [
        "t.yaml:28:27: services[0].ports[1].port: must be greater than or equal to 1, got the number 0",
        "t.yaml:28:42: services[0].ports[1].targetPort: targetPort 'x_y' is not a valid port name "
        "(1-15 lowercase letters, digits and '-', at least one letter, no leading or trailing '-')",
    ]
    assert str(e).splitlines()[1] == "(and 1 more error)"
    assert e.format_all().splitlines() == [str(x) for x in e.errors]
    assert isinstance(e, ValueError)


def test_errors_are_in_file_order():
    text = BASE.replace("style: proxy", "style: nat").replace("port: 9090,", "port: -1,")
    e = _err(text)
    lines = [(x.line, x.column) for x in e.errors]
    assert lines == sorted(lines) and len(lines) == 2
    assert str(e).endswith("\n(and 1 more error)")


def test_error_detail_formats():
    assert str(ErrorDetail("f.yaml", None, None, "", "too big")) == "f.yaml: too big"
    assert str(ErrorDetail("f.yaml", 3, 7, "", "bad")) == "f.yaml:3:7: bad"
    assert str(ErrorDetail("f.yaml", 3, 7, "a.b", "bad")) == "f.yaml:3:7: a.b: bad"


# ------------------------------------------------------------------ YAML-level problems


@pytest.mark.parametrize(
    "text,expected",
    [
        ("", "t.yaml:1:1: the file is empty: expected a mapping with name, cluster, pods, services, flows"),
        ("# nothing\n\n", "t.yaml:1:1: the file is empty: expected a mapping with name, cluster, pods, services, flows"),
        ("- a\n- b\n", "t.yaml:1:1: the top level must be a mapping (name:, cluster:, ...), not a sequence"),
        ("just text\n", "t.yaml:1:1: the top level must be a mapping (name:, cluster:, ...), not a scalar ('just text')"),
        ("name: [a, b\n", "t.yaml:2:1: invalid YAML: expected ',' or ']', but got '<stream end>' (while parsing a flow sequence at line 1)"),
        ("name: x\n  bad: indent\n", "t.yaml:2:6: invalid YAML: mapping values are not allowed here"),
        ("a: 1\n---\nb: 2\n", "t.yaml:2:1: invalid YAML: expected a single document in the stream at line 1, but found another document"),
        ("name: \"x\x00\"\n", "t.yaml:1:9: character U+0000 is not allowed in YAML"),
        ("name: a\nname: b\n", "t.yaml:2:1: name: duplicate key 'name' (first at line 1)"),
        ("<<: {name: x}\n", "t.yaml:1:1: merge keys (<<) are not supported; write the keys out"),
        ("name: !!python/object:os.system x\n", "t.yaml:1:7: name: tag !!python/object:os.system is not supported here"),
        ("name: !!binary aGk=\n", "t.yaml:1:7: name: tag !!binary is not supported here"),
        ("1: x\n", "t.yaml:1:1: mapping key '1' must be a string; quote it"),
        ("? [a]\n: x\n", "t.yaml:1:3: a mapping key must be a plain string"),
        ("a: &a [*a]\n", "t.yaml:1:4: a[0]: an alias refers to a value that contains it (recursive alias)"),
        ("name: 2024-13-45\n", "t.yaml:1:7: name: cannot read '2024-13-45': month must be in 1..12"),
        ("[" * 100 + "]" * 100, "t.yaml:1:65: nested more than 64 levels deep"),
    ],
)
def test_yaml_errors(text, expected):
    assert str(_err(text)) == expected


def test_wrong_top_level_types():
    assert str(_err("name: 5\ncluster: []\n")) == (
        "t.yaml:1:7: name: expected a string, got the number 5 (quote it to make it a string)"
        "\n(and 1 more error)"
    )


def test_alias_bomb_is_rejected_quickly():
    # "billion laughs": 9 levels of 9 aliases would expand to 9**9 strings
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 9):
        prev, cur = chr(96 + i), chr(97 + i)
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    start = time.perf_counter()
    e = _err("\n".join(lines) + "\n")
    assert time.perf_counter() - start < 0.5
    assert str(e) == (
        "t.yaml:5:23: too many aliases (more than 32); write the values out instead of "
        "using anchors and aliases"
    )


def test_wide_alias_expansion_is_bounded():
    # few aliases, but each expands to a big sequence
    text = (
        "a: &a [" + ",".join(["0"] * 1000) + "]\n"
        "b: &b [" + ",".join(["*a"] * 10) + "]\n"
        "c: [" + ",".join(["*b"] * 11) + "]\n"
    )  # 21 aliases, 111,000 values
    e = _err(text)
    assert e.message == "more than 100,000 values once aliases are expanded (an alias bomb?)"
    assert e.field.startswith("c[")


def test_a_few_aliases_are_fine():
    text = BASE.replace("labels: {app: web}\n    ports:", "labels: &web {app: web}\n    ports:", 1)
    text = text.replace("labels: {app: web}\nservices:", "labels: *web\nservices:")
    assert load_scenario_text(text).pod("web-2").labels == {"app": "web"}


# ------------------------------------------------------------------ files: size and encoding


def test_file_over_the_size_limit_fails_fast(tmp_path):
    big = tmp_path / "big.yaml"
    with big.open("wb") as fh:  # a valid scenario, then padding up to 50 MiB (sparse: fast)
        fh.write(BASE.encode() + b"# padding\n")
        fh.seek(50 * 1024 * 1024 - 1)
        fh.write(b"\n")
    assert big.stat().st_size == 50 * 1024 * 1024
    start = time.perf_counter()
    with pytest.raises(ScenarioError) as info:
        load_scenario(big)
    assert time.perf_counter() - start < 0.2
    assert str(info.value) == (
        f"{big}: file is too large: 52,428,800 bytes (the limit is 5,242,880 bytes)"
    )
    assert info.value.line is None and info.value.field == ""


def test_text_over_the_size_limit():
    e = _err("#" * (MAX_BYTES + 1))
    assert str(e) == "t.yaml: file is too large: 5,242,881 bytes (the limit is 5,242,880 bytes)"


def test_non_utf8_file(tmp_path):
    f = tmp_path / "latin1.yaml"
    f.write_bytes("name: t\ndescription: caf\u00e9\n".encode("latin-1"))
    with pytest.raises(ScenarioError) as info:
        load_scenario(f)
    assert str(info.value) == f"{f}:2:17: not UTF-8 text: byte 0xe9 cannot be decoded"


def test_empty_file(tmp_path):
    f = tmp_path / "empty.yaml"
    f.write_bytes(b"")
    with pytest.raises(ScenarioError) as info:
        load_scenario(f)
    assert str(info.value) == (
        f"{f}:1:1: the file is empty: expected a mapping with name, cluster, pods, services, flows"
    )


def test_missing_file(tmp_path):
    f = tmp_path / "nope.yaml"
    with pytest.raises(ScenarioError) as info:
        load_scenario(f)
    assert str(info.value) == f"{f}: cannot read the file: No such file or directory"


def test_utf8_bom_and_path_types(tmp_path):
    f = tmp_path / "bom.yaml"
    f.write_bytes(b"\xef\xbb\xbf" + BASE.encode())
    assert load_scenario(f).name == "t"
    assert load_scenario(str(f)).name == "t"


def test_from_is_the_only_spelling():
    e = _err(BASE.replace("from: web-2,", "from_: web-2,"))
    # the "missing required key 'from'" twin is folded into the suggestion
    assert e.format_all() == "t.yaml:37:20: flows[1].from_: unknown key 'from_'; did you mean 'from'?"


def test_strict_types_no_coercion():
    # YAML gives real types; a quoted number is a string and stays an error
    e = _err(BASE.replace("replicas: 3", "replicas: '3'"))
    assert str(e) == "t.yaml:40:48: timeline[1].replicas: expected an integer, got the string '3'"
    e = _err(BASE.replace("replicas: 3", "replicas: 3.0"))
    assert str(e) == "t.yaml:40:48: timeline[1].replicas: expected an integer, got the number 3.0"
