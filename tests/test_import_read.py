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


# ----------------------------------------------------------------------------- yaml-rs


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


def test_yaml_rs_is_installed_and_loaded_only_when_a_dump_is_read():
    import subprocess
    import sys

    assert read_mod._load_yaml_rs() is not None
    # importing it reserves ~1 GB of address space: the app's processes (which import the
    # importer, e.g. the fork server's preload) must not, or a served session's limit breaks
    code = ("import sys, kubeflow_tui.importer, kubeflow_tui.cli_import; "
            "print('yaml_rs' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("text", [KIND.read_text(), _kubectl_like()], ids=["kind", "bench"])
def test_a_kubectl_dump_takes_yaml_rs_and_reads_as_the_safe_loader(text):
    fast = read_mod._fast_docs(text)
    assert fast is not None
    assert fast == list(yaml.load_all(text, Loader=Loader))
    # and in the same order (the scenario keeps labels and ports in the dump's order)
    assert repr(fast) == repr(list(yaml.load_all(text, Loader=Loader)))


# What the two parsers read apart (YAML 1.1 types these plain scalars, YAML 1.2 does not, or
# the other way round; or one of them refuses the text): each goes to PyYAML.
AMBIGUOUS = [
    "a: yes\n", "a: Off\n", "a: 0777\n", "a: 0o17\n", "a: 1e3\n", "a: 7e5_\n", "a: _1\n", "a: 1_000\n",
    "a: 1:30\n", "a: .inf\n", "a: inf\n", "a: ~\n", "a: NULL\n", "a: 2026-12-01T14:02:11Z\n",
    "a: 2001-12-14 21:59:43.10 -5\n", "yes: 1\n", "- 0x1F\n", "a: [1, 0777]\n", "a: {b: Yes}\n",
    "a: &x 1\nb: *x\n", "a: !!str 1\n", "base: &b {x: 1}\nd:\n  <<: *b\n", "? [a, b]\n: 1\n",
    "{[a]: 1}\n", "{[], b: v}\n", "k: {a:\",{E}}\n", "- :a\n", "k: [a:, b]\n", "--- 5\n--- [1]\n", "%YAML 1.1\n---\na: 1\n",
    "a: x\u2028y\n", "a:\n\t- 1\n", "k: |\n   \n", "- |\n", "k: |+\n  a\n\n", "a: \"x\x00\"\n",
    "a: b\n c: d\n", "k: [>, x]\n", "k: [ |, x]\n", "k: {a: |}\n", "k: {a: |\n  x\n}\nz: 1\n",
    "k: [\n  |\n]\nz: 1\n", "k: | x\nz: 1\n", "#c\n>\n", "#ca\n    |-\n\\\"\n", "a: @x\n", "a: `x\n",
]


@pytest.mark.parametrize("text", AMBIGUOUS)
def test_what_the_parsers_read_apart_goes_to_pyyaml(text):
    assert read_mod._fast_docs(text) is None
    try:
        want = list(yaml.load_all(text, Loader=Loader))
    except yaml.YAMLError:
        with pytest.raises(DumpError):
            read_mod._yaml_docs(text, "x.yaml")
        return
    assert read_mod._yaml_docs(text, "x.yaml") == want


def test_a_binary_file_is_still_named_by_pyyaml():
    with pytest.raises(DumpError) as e:
        read_mod._yaml_docs("apiVersion: v1\nkind: List\nitems:\n- \x00\x01", "x.yaml")
    assert str(e.value).startswith("x.yaml:4:3: not YAML text: character 0x00")


from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_PLACES = ["k: {}\n", "{}: v\n", "- {}\n", "k: [{}, x]\n", "k: {{a: {}}}\n", "k:\n  {}\n",
           "{{{}: v}}\n", "k: {{a:{}}}\n", "k: |\n  {}\nz: 1\n", "k: '{}'\n", "k: \"{}\"\n",
           "a:\n  b: |-\n    {}\n  c: [1]\n", "- '{}'\n- x\n", "k: \"{}\" {{}}\n"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(word=st.text(alphabet="0123456789._:+-eExXoObBinfaINFNAtrueTRUElsyYN~=,[]{}\"' #&*!|>?%@`\t\n",
                    max_size=8),
       place=st.sampled_from(_PLACES))
def test_any_short_scalar_anywhere_reads_as_the_safe_loader_does(word, place):
    """The gate in front of yaml-rs lets nothing through that PyYAML reads otherwise (or refuses)."""
    text = place.format(word)
    try:
        want = list(yaml.load_all(text, Loader=Loader))
    except yaml.YAMLError:
        want = None
    fast = read_mod._fast_docs(text)
    if fast is not None:  # (a document of nothing is left out: no object, as in parse_text)
        assert want is not None, text
        assert repr([d for d in fast if d is not None]) == repr([d for d in want if d is not None]), text


@pytest.mark.parametrize(("text", "flow"), [
    ("k: {}\nl: []\n", False),
    ("k: [a]\n", True),
    ("message: 'containers with unready status: [api]'\n", False),
    ('message: "x [a]"\n', False),
    ("k: 'it''s [x]'\n", False),
    ("'a': [x]\n", True),
    ("k: 'a' [x]\n", True),
    ("it's: [a]\n", True),
    ("a:\n  last: |\n    {\"a\":[1,{\"b\":2}]}\n  x: 1\n", False),  # last-applied-configuration
    ("a:\n  last: |2\n    {\"a\":[1]}\n", True),
    ("k: |\n      deep\n  {x: 1}\n", True),
    ("k:\n  - [a]\n", True),
])
def test_brackets_in_strings_are_no_flow_collection(text, flow):
    assert read_mod._flow_syntax(text) is flow


def test_a_dump_with_quoted_brackets_and_last_applied_json_still_takes_yaml_rs():
    text = _kubectl_like(3).replace(
        "    conditions:\n",
        "    message: 'containers with unready status: [api]'\n    conditions:\n", 1).replace(
        "  metadata:\n    labels:\n", "  metadata:\n    annotations:\n"
        "      kubectl.kubernetes.io/last-applied-configuration: |\n"
        "        {\"apiVersion\":\"v1\",\"kind\":\"Service\",\"spec\":{\"ports\":[{\"port\":80}]}}\n"
        "    labels:\n", 1)
    assert "unready status: [api]" in text and "last-applied" in text
    fast = read_mod._fast_docs(text)
    assert fast is not None and repr(fast) == repr(list(yaml.load_all(text, Loader=Loader)))


_PIECES = ["k: ", "- ", "'", '"', "[", "]", "{", "}", "a", "b c", ": ", "|", "|-", ">", "\n", "\n  ",
           "\n    ", ",", "''", '\\"', "x: 1", "#c", " "]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pieces=st.lists(st.sampled_from(_PIECES), min_size=1, max_size=14))
def test_quotes_brackets_and_block_scalars_in_any_order_read_as_the_safe_loader_does(pieces):
    """Texts made of quotes, brackets, block headers and line breaks: what yaml-rs is given,
    PyYAML reads alike (and does not refuse)."""
    text = "".join(pieces) + "\n"
    fast = read_mod._fast_docs(text)
    if fast is None:
        return
    try:
        want = list(yaml.load_all(text, Loader=Loader))
    except yaml.YAMLError:
        want = None
    assert want is not None, text
    assert repr([d for d in fast if d is not None]) == repr([d for d in want if d is not None]), text
