"""Reading kubectl's YAML from libyaml's events: the same objects as PyYAML's safe loader, its
errors where the YAML is bad, and its own loader for what kubectl never prints."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
import yaml

from kubeflow_tui.importer import DumpError
from kubeflow_tui.importer import read as read_mod

KIND = Path(__file__).parent / "fixtures" / "import" / "kind-2node.yaml"
Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def test_the_c_parser_is_the_one_in_use():
    assert yaml.__with_libyaml__ and read_mod._SafeLoader is yaml.CSafeLoader


@pytest.mark.parametrize("text", [
    KIND.read_text(),
    "a: 1\nb: [1, 2.5, true, null, ~, '3', \"x\", 2026-01-01, 0o17, 0x1f, 1_000, .inf, yes, off, -0]\n"
    "c: {d: e, f: [], g: {}}\nh: |\n  two\n  lines\ni: >-\n  folded\n  text\n---\n- x\n- - y\n---\n",
    "",
    "---\n",
    "--- 5\n--- [1]\n",
    "a:\n  - b: 1\n    c: \"2\"\n  - 3\n",
    "creationTimestamp: 2026-12-01T14:02:11Z\nport: 08080\nname: 1e3\n",
])
def test_the_same_objects_as_the_safe_loader(text):
    assert read_mod._event_docs(text) == list(yaml.load_all(text, Loader=Loader))


def test_typed_scalars_keep_their_types():
    docs = read_mod._event_docs("a: 1\nb: '1'\nc: true\nd: 2026-12-01T14:02:11Z\ne: ~\n")
    assert docs == [{"a": 1, "b": "1", "c": True, "d": datetime.datetime(2026, 12, 1, 14, 2, 11, tzinfo=datetime.timezone.utc),
                    "e": None}]
    assert type(docs[0]["a"]) is int and type(docs[0]["c"]) is bool


@pytest.mark.parametrize("text", [
    "a: &x {b: 1}\nc: *x\n",
    "base: &b {x: 1}\nd:\n  <<: *b\n  y: 2\n",
    "a: !!str 1\n",
    "? [a, b]\n: 1\n",
    "s: !!set {a, b}\n",
])
def test_what_kubectl_never_prints_goes_to_pyyaml(text):
    with pytest.raises(read_mod._Unusual):
        read_mod._event_docs(text)
    try:
        want = list(yaml.load_all(text, Loader=Loader))
    except yaml.YAMLError:
        with pytest.raises(DumpError):
            read_mod._yaml_docs(text, "x.yaml")
        return
    assert read_mod._yaml_docs(text, "x.yaml") == want


@pytest.mark.parametrize(("text", "where", "says"), [
    ("apiVersion: v1\nitems:\n- kind: Pod\n  metadata: {name: a\n", "x.yaml:5:1", "invalid YAML"),
    ("a: b\n c: d\n", "x.yaml:2:3", "invalid YAML: mapping values are not allowed in this context"),
    ("a: [1, 2\n", "x.yaml:2:1", "invalid YAML"),
    ("a: 'open\n", "x.yaml:2:1", "invalid YAML"),
])
def test_bad_yaml_is_named_by_line_and_column(text, where, says):
    with pytest.raises(DumpError) as e:
        read_mod._yaml_docs(text, "x.yaml")
    assert str(e.value).startswith(f"{where}: {says}"), str(e.value)


def _kubectl_like(services: int = 20) -> str:
    """A dump as kubectl prints it (the benchmark's cluster, written by PyYAML's emitter)."""
    import sys

    sys.path.insert(0, str(Path(__file__).parent.parent / "benchmarks"))
    try:
        import bench_import
    finally:
        sys.path.pop(0)
    return yaml.dump(bench_import.cluster(services), Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper),
                     default_flow_style=False, sort_keys=True)


@pytest.mark.parametrize("text", [KIND.read_text(), _kubectl_like()], ids=["kind", "bench"])
def test_a_kubectl_dump_reads_as_the_safe_loader_in_the_same_order(text):
    docs = read_mod._yaml_docs(text, "x.yaml")
    want = list(yaml.load_all(text, Loader=Loader))
    # the same objects, and in the same order (the scenario keeps labels and ports in the dump's order)
    assert docs == want and repr(docs) == repr(want)


def test_a_binary_file_is_named_by_line_and_column():
    with pytest.raises(DumpError) as e:
        read_mod._yaml_docs("apiVersion: v1\nkind: List\nitems:\n- \x00\x01", "x.yaml")
    assert str(e.value).startswith("x.yaml:4:3: not YAML text: character 0x00")
