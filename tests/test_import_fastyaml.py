"""The fast reader of kubectl's YAML gives what PyYAML gives, item by item, whatever the
item holds (what it does not handle itself goes to PyYAML)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from kubeflow_tui.importer import fastyaml
from kubeflow_tui.importer.build import WANTS

KIND = Path(__file__).parent / "fixtures" / "import" / "kind-2node.yaml"

ITEMS = {
    "block scalars": """\
- apiVersion: v1
  kind: ConfigMap
  metadata:
    annotations:
      kubectl.kubernetes.io/last-applied-configuration: |
        {"apiVersion":"v1","kind":"ConfigMap"}
      keep: |-
        line one

        line three
    name: a
""",
    "scalars of every type": """\
- apiVersion: v1
  kind: Pod
  metadata:
    name: b
  spec:
    args:
    - -conf
    - /etc/coredns/Corefile
    empty:
    hex: 0x10
    octal: 010
    when: 2026-12-01T14:02:11Z
    yes_is_true: yes
    quoted_yes: "yes"
    single: 'it''s'
    double: "tab\\there \\u00e9"
    colon: "a: b"
    nulls: ~
    float: 1.5
    neg: -3
""",
    "nested sequences": """\
- apiVersion: v1
  kind: Pod
  metadata:
    name: c
  spec:
    matrix:
    - - 1
      - 2
    - - 3
    -
      late: mapping
    items:
      - indented: deeper
      - two
""",
    "folded scalar (PyYAML)": """\
- apiVersion: v1
  kind: Pod
  metadata:
    name: d
    message: 'a very long message that go-yaml folds over
      two lines'
""",
    "comment and anchors (PyYAML)": """\
- apiVersion: v1
  kind: Pod # a comment
  metadata: &m
    name: e
  copy: *m
""",
    "four-space indentation": """\
-   apiVersion: v1
    kind: Pod
    metadata:
        name: f
        labels:
            app: x
""",
    "flow collections (PyYAML)": """\
- apiVersion: v1
  kind: Pod
  metadata: {name: g, labels: {app: x}}
""",
    "quoted key (PyYAML)": """\
- apiVersion: v1
  kind: Pod
  metadata:
    name: h
    labels:
      "a: b": c
""",
}


def _doc(items: str, indent_items: bool = False) -> str:
    if indent_items:
        items = "".join("  " + ln if ln.strip() else ln for ln in items.splitlines(True))
    return f"apiVersion: v1\nitems:\n{items}kind: List\nmetadata:\n  resourceVersion: \"\"\n"


@pytest.mark.parametrize("name", list(ITEMS))
@pytest.mark.parametrize("indent_items", [False, True])
def test_each_item_reads_as_pyyaml_reads_it(name, indent_items):
    text = _doc(ITEMS[name], indent_items)
    top, items = fastyaml.read_list(text)
    want = yaml.safe_load(text)
    assert [d for d, _, _ in items] == want["items"]
    assert top == {"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""},
                   "items": None}


def test_all_items_together_and_their_lines():
    text = _doc("".join(ITEMS.values()))
    _, items = fastyaml.read_list(text)
    assert [d for d, _, _ in items] == yaml.safe_load(text)["items"]
    lines = text.split("\n")
    assert [lines[a].startswith("- ") for _, a, _ in items] == [True] * len(ITEMS)
    assert [lines[a] for _, a, _ in items][1:3] == ["- apiVersion: v1"] * 2


def test_the_kind_fixture():
    text = KIND.read_text()
    _, items = fastyaml.read_list(text)
    assert [d for d, _, _ in items] == yaml.safe_load(text)["items"]


def test_wants_read_only_the_named_fields():
    _, items = fastyaml.read_list(KIND.read_text(), WANTS)
    full = yaml.safe_load(KIND.read_text())["items"]
    pod = next(d for d, _, _ in items if d["kind"] == "Pod")
    ref = next(d for d in full if d["kind"] == "Pod")
    assert set(pod["spec"]) == {"containers", "nodeName"}
    assert pod["spec"]["containers"] == [
        {k: v for k, v in c.items() if k in ("name", "ports", "command", "args")}
        for c in ref["spec"]["containers"]]
    assert "readinessProbe" not in str(pod)
    secret = next(d for d, _, _ in items if d["kind"] == "Secret")
    assert secret == {"apiVersion": "v1", "kind": "Secret",
                      "metadata": {"name": "db-credentials", "namespace": "default"}}


@pytest.mark.parametrize("text", [
    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n",  # not a List
    "---\napiVersion: v1\nitems: []\nkind: List\n---\nkind: Pod\n",  # several documents
    "apiVersion: v1\nitems:\n    - a: 1\nkind: List\n",  # items indented by four
])
def test_other_shapes_go_to_pyyaml(text):
    assert fastyaml.read_list(text) is None


@pytest.mark.parametrize("name", [n for n in ITEMS if "(PyYAML)" not in n])
def test_kubectl_shaped_items_do_not_need_pyyaml(name, monkeypatch):
    loaded: list[str] = []
    real = yaml.load
    monkeypatch.setattr(fastyaml.yaml, "load", lambda text, **kw: loaded.append(text) or real(text, **kw))
    fastyaml.read_list(_doc(ITEMS[name]))
    # only the List's own keys (apiVersion, kind, metadata) went to PyYAML
    assert [t.split(":")[0] for t in loaded] == ["apiVersion", "kind", "metadata"]
