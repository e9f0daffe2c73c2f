"""Property tests: whatever the input, the loader returns a Scenario or raises
ScenarioError -- never another exception.  Bounded so the file stays fast."""

from __future__ import annotations

import datetime

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubeflow_tui.scenario import Scenario, ScenarioError, load_scenario_text

from test_scenario_loader import BASE

DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # dumping is not under test
# 120 + 120 + 40 + 60 examples: ~340 in all, under two seconds
FAST = settings(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _check(text: str) -> None:
    try:
        result = load_scenario_text(text, "fuzz.yaml")
    except ScenarioError as e:
        assert e.errors
        assert str(e).startswith("fuzz.yaml")
        for d in e.errors:
            assert d.line is None or (d.line >= 1 and d.column >= 1)
    else:
        assert isinstance(result, Scenario)


@settings(FAST, max_examples=120)
@given(st.text(max_size=200))
def test_arbitrary_text(text):
    _check(text)


# YAML's punctuation and tokens, so the parser's corners get visited
YAMLISH = st.lists(
    st.sampled_from(
        list("{}[]:,-?&*!|>'\"#%@` \n\t\\abn01./<=")
        + ["\u00e9", "\x00", "\ufeff", "---", "...", "!!", "<<", "&a ", "*a", ": ", "- ", "\n  "]
    ),
    max_size=60,
).map("".join)


@settings(FAST, max_examples=120)
@given(YAMLISH)
def test_yaml_punctuation(text):
    _check(text)


SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(["10.96.0.1", "10.244.1.5", "10.244.1.0/24", "10.96.0.1:8080", "node-a",
                     "web-1", "http", "TCP", "UDP", "LoadBalancer", "30080", "192.168.1.2"]),
    st.dates(min_value=datetime.date(1990, 1, 1), max_value=datetime.date(2100, 1, 1)),
)
KEYS = st.sampled_from(
    ["name", "cluster", "nodes", "pods", "services", "flows", "ip", "podCIDR", "ports",
     "port", "from", "to", "node", "x", "timeline", "action", "labels"]
) | st.text(max_size=8)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=5),
    max_leaves=25,
)


@settings(FAST, max_examples=40)
@given(st.dictionaries(KEYS, VALUES, max_size=6), st.booleans())
def test_arbitrary_structures(data, flow_style):
    _check(yaml.dump(data, Dumper=DUMPER, default_flow_style=flow_style, allow_unicode=True))


BASE_DATA = yaml.safe_load(BASE)



def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, prefix + (i,))


PATHS = [p for p in _paths(BASE_DATA) if p]


def _mutate(data, path, op, value):
    import copy

    data = copy.deepcopy(data)
    parent = data
    for el in path[:-1]:
        parent = parent[el]
    last = path[-1]
    if op == "delete":
        del parent[last]
    elif op == "replace":
        parent[last] = value
    elif op == "duplicate" and isinstance(parent, list):
        parent.append(copy.deepcopy(parent[last]))
    elif op == "add-key" and isinstance(parent, dict):
        parent[value if isinstance(value, str) else "extra"] = value
    return data


@settings(FAST, max_examples=60)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(PATHS),
            st.sampled_from(["delete", "replace", "duplicate", "add-key"]),
            VALUES,
        ),
        min_size=1,
        max_size=3,
    )
)
def test_mutated_valid_scenario(mutations):
    """Near-valid input reaches the cross-reference checks, where bugs would hide."""
    data = BASE_DATA
    for path, op, value in mutations:
        try:
            data = _mutate(data, path, op, value)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed the place
    _check(yaml.dump(data, Dumper=DUMPER, sort_keys=False, default_flow_style=None))
