"""The lesson front matter reader that avoids importing PyYAML at start-up.

``lessons._plain_front_matter`` must either give exactly what ``yaml.safe_load`` gives or
say "not sure" (None), so that the lesson, and every error message, stays yaml's.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from kubeflow_tui import lessons

REPO = Path(__file__).resolve().parents[2]


def _same_as_yaml(front: str) -> None:
    got = lessons._plain_front_matter(front)
    if got is None:
        return
    assert got == yaml.safe_load(front), front
    # and the same types (yaml's 1 is an int, "1" a str; True == 1 must not hide a bool)
    assert {k: type(v) for k, v in got.items()} == {k: type(v) for k, v in yaml.safe_load(front).items()}


def test_repo_lessons_read_as_yaml_reads_them():
    plain = 0
    for path in sorted((REPO / "lessons").glob("*.md")):
        front = lessons.split_front_matter(path.read_text(encoding="utf-8"))[0]
        _same_as_yaml(front)
        plain += lessons._plain_front_matter(front) is not None
    assert plain >= 1  # lesson 1 at least is read without yaml


def test_plain_lines():
    front = 'title: "One host: hooks"\nscenario: scenarios/a.yaml  # a comment\nflows: [a-b, c_d,\n  e]\nminutes: 8'
    assert lessons._plain_front_matter(front) == {
        "title": "One host: hooks", "scenario": "scenarios/a.yaml", "flows": ["a-b", "c_d", "e"], "minutes": 8}


def test_anything_unsure_is_left_to_yaml():
    for front in [
        "title: yes", "title: No", "title: null", "title: ~", "title:", "title: 1.0", "title: 08",
        "title: 2024-01-01", "minutes: 0x10", "flows: []", "flows: [a,]", "flows: [1, 2]", "true: x",
        "title: a b", 'title: "a\\tb"', "title: 'it''s'", "title: &a x", "title: !!str 1", "a: x\na: y",
        "flows:\n  - a", "  title: x", "title: x\n  more", "title: a#b",
        'title: "a # b"', "flows: [a, b", "flows: [a]]", "title:\tx", "", "# only a comment",
        "title: [a,\n  a]\t", "title: a # \x01", "title: 'a\x85'",
    ]:
        assert lessons._plain_front_matter(front) is None, front


PIECES = st.sampled_from([
    "title", "scenario", "flows", "minutes", "quiz", "case", "yes", "on", "Null", "_x", "a-b",
    ":", ": ", "  ", " ", "#", " # c", "\n", "\n  ", "[", "]", ",", ", ", '"', "'", "\\", "\t",
    "1", "0", "07", "1.5", "-", ".", "/", "x.yaml", "scenarios/a.yaml", "~", "&", "*", "!", "|", ">",
    "…", "é", "\r\n", "{", "}", "?", "%", "@", "`", "=", "<<", "2024-01-01",
])


@settings(max_examples=1500, deadline=None)
@given(st.lists(PIECES, max_size=24).map("".join))
def test_never_differs_from_yaml(front: str):
    try:
        expected = yaml.safe_load(front)
    except yaml.YAMLError:
        assert lessons._plain_front_matter(front) is None, front
        return
    got = lessons._plain_front_matter(front)
    if got is not None:
        assert got == expected, front
        assert {k: type(v) for k, v in got.items()} == {k: type(v) for k, v in expected.items()}, front


def test_a_lesson_without_yaml_import(tmp_path):
    """Opening a plain lesson reads it without PyYAML (start-up time)."""
    import subprocess
    import sys

    code = ("import sys; from kubeflow_tui import lessons; "
            f"lessons.parse_lesson({str(REPO / 'lessons' / '01-one-linux-host.md')!r}); "
            "print('yaml' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert out.stdout.strip() == "False"


SCALARS = st.sampled_from([
    "a", "x.yaml", "scenarios/a.yaml", "pod-to-service", "Yes", "off", "NULL", "y", "n", "1", "10", "0", "08",
    "1.0", "1e3", "0x1", "~", "-a", ".a", "a:b", "a#b", "a b", '"a: b"', '"#"', '" # x"', '"a, b"', "'q'", "''",
    '""', '"\\n"', "'a''b'", '"…é"', "_x", "a/b-c_d.e", "2024-01-01", "[", "]", "",
])
VALUES = st.one_of(
    SCALARS,
    st.lists(SCALARS, min_size=0, max_size=4).map(lambda xs: "[" + ", ".join(xs) + "]"),
    st.lists(SCALARS, min_size=2, max_size=4).map(lambda xs: "[" + xs[0] + ",\n  " + ", ".join(xs[1:]) + "]"),
)
LINES = st.tuples(
    st.sampled_from(["title", "scenario", "flows", "minutes", "quiz", "On", "see_also", "# note", ""]),
    st.sampled_from([": ", ":", ":  ", " : "]),
    VALUES,
    st.sampled_from(["", " # c", "  #c", "#c", " ", "\t"]),
).map("".join)


@settings(max_examples=4000, deadline=None)
@given(st.lists(LINES, min_size=1, max_size=5).map("\n".join))
def test_key_value_lines_never_differ_from_yaml(front: str):
    test_never_differs_from_yaml.hypothesis.inner_test(front)
