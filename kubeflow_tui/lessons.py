"""Lessons: Markdown files with YAML front matter.

A lesson file looks like::

    ---
    title: "A packet meets a ClusterIP"
    scenario: scenarios/clusterip.yaml   # relative to the repo root (or the bundled scenarios)
    flows: [pod-to-service]              # flow names of that scenario, in teaching order
    minutes: 10
    quiz: quizzes/01.yaml                # optional: authored questions (see below)
    case: 09-one-client-hangs               # optional: a troubleshooting case under cases/
    ---
    # Markdown body ...

Every lesson gets a quiz generated from its flows' Traces.  ``quiz:`` adds authored
questions: a path (relative to the lesson's folder, the repo root or the content dir) to
a YAML file, or the list itself inline.  The file holds a list (or ``{questions: [...]}``)
of items, each one of

* ``{question: ..., options: [...], answer: 0, explanation: ...}`` -- multiple choice
  (``answer`` is 0-based);
* ``{command: "iptables -t nat -L KUBE-SERVICES -n", prompt: ..., host: node-a,
  hints: [...]}`` -- the learner types a command; it is right when it prints the same and
  changes the cluster the same way as ``command`` (``kubeflow_tui.quiz.judge_command``);
  ``host`` defaults to the node of the lesson's first flow;
* ``standard`` -- the standard command questions of the scenario.

``case:`` names a case by file stem (``09-one-client-hangs``), by stem without its number
(``one-node-no-route``) or by path, or is a list of them; the case(s) are offered after the quiz.

A "## Check yourself" section ends with its answer key, in a fence whose info string is
``answer``; the lesson screen hides it and shows it on a key (``a``)::

    ## Check yourself

    In **pod-to-service**, does the SYN-ACK walk the nat table?

    ```answer
    No: the nat table sees only a connection's first packet ...
    ```

Lessons are ordered by file name (``01-…``, ``02-…``).  Stdlib and yaml only (yaml is
imported only for front matter beyond plain ``key: value`` lines: ``_plain_front_matter``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

REQUIRED = ("title", "scenario", "flows", "minutes")
OPTIONAL = ("quiz", "case")
_FRONT = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.S)


#: a fenced answer key: ```answer … ``` (or ~~~answer)
_ANSWER = re.compile(r"^(?P<fence>`{3,}|~{3,})[ \t]*answer[ \t]*\r?\n(?P<text>.*?)^(?P=fence)[ \t]*(?:\r?\n|\Z)",
                     re.M | re.S)
_CHECK_HEADING = re.compile(r"^#{2,3}[ \t]+Check yourself[ \t]*#*[ \t]*$", re.M | re.I)
_HEADING = re.compile(r"^#{1,6}[ \t]", re.M)


@dataclass(frozen=True)
class CheckAnswer:
    """One "Check yourself" question and its answer key (Markdown)."""

    prompt: str
    answer: str
    line: int  # of the answer fence in the lesson file (1-based)


def split_answers(body: str, note: str = "", first_line: int = 1) -> tuple[str, list[CheckAnswer]]:
    """``body`` without its answer fences (each replaced by ``note``, if given, as a
    paragraph of its own) and the answers, each with the prompt text before it (back to
    the heading above).  ``first_line``: the file line the body starts on."""
    answers: list[CheckAnswer] = []
    out: list[str] = []
    pos = 0
    for m in _ANSWER.finditer(body):
        before = body[:m.start()]
        heads = list(_HEADING.finditer(before))
        start = before.find("\n", heads[-1].start()) + 1 if heads else 0
        prompt = before[start:].strip()
        answers.append(CheckAnswer(prompt, m.group("text").strip(), first_line + body.count("\n", 0, m.start())))
        out.append(body[pos:m.start()])
        if note:
            out.append(note + "\n")
        pos = m.end()
    out.append(body[pos:])
    return "".join(out), answers


def check_sections(body: str) -> list[tuple[int, bool]]:
    """Each "Check yourself" heading of ``body``: (its line in the body, 1-based; whether
    its section holds an answer fence)."""
    out = []
    heads = [m.start() for m in _HEADING.finditer(body)] + [len(body)]
    for m in _CHECK_HEADING.finditer(body):
        end = next(h for h in heads if h > m.start())
        out.append((body.count("\n", 0, m.start()) + 1, bool(_ANSWER.search(body, m.end(), end))))
    return out


class LessonError(ValueError):
    """A lesson file that cannot be used; ``str()`` starts with ``file:line:``."""


@dataclass(frozen=True)
class Lesson:
    id: str  # file stem, e.g. "01-clusterip"
    path: Path
    title: str
    scenario: Path  # resolved path of the scenario file
    scenario_ref: str  # as written in the front matter
    flows: tuple[str, ...]
    minutes: int
    body: str  # Markdown without the front matter
    quiz: Any = None
    case: Any = None
    extra: dict[str, Any] = field(default_factory=dict)
    #: the "Check yourself" answer keys (``body`` holds no answer fence)
    answers: tuple[CheckAnswer, ...] = ()
    #: the body as written, answer fences included
    source_body: str = ""
    #: the file line the body starts on
    body_line: int = 1

    def body_with_answer_note(self, note: str) -> str:
        """The body with ``note`` where each answer key was (for a front end that shows
        the answers on request)."""
        return split_answers(self.source_body or self.body, note, self.body_line)[0]

    @property
    def number(self) -> str:
        m = re.match(r"(\d+)", self.id)
        return m.group(1) if m else ""


# --------------------------------------------------------------------------- dirs


def _package_root() -> Path:
    return Path(__file__).resolve().parent


def lessons_dir() -> Path:
    """Where the lessons live: ``kubeflow_tui.resources`` if present, else the repo's."""
    try:
        from kubeflow_tui import resources  # type: ignore[attr-defined]

        return Path(resources.lessons_dir())
    except Exception:
        return _package_root().parent / "lessons"


def scenarios_dir() -> Path:
    try:
        from kubeflow_tui import resources  # type: ignore[attr-defined]

        return Path(resources.scenarios_dir())
    except Exception:
        return _package_root().parent / "scenarios"


def resolve_scenario(ref: str, lesson_path: Path | None = None) -> Path:
    """Resolve a lesson's ``scenario:`` value to a file path (may not exist)."""
    p = Path(ref).expanduser()
    if p.is_absolute():
        return p
    candidates: list[Path] = []
    if lesson_path is not None:
        folder = lesson_path.resolve().parent
        candidates += [folder.parent / p, folder / p]
        for c in candidates:  # (before looking for the scenarios folder: the usual case)
            if c.is_file():
                return c
    sdir = scenarios_dir()
    candidates += [sdir / p, sdir / p.name, sdir.parent / p]
    for c in candidates:
        if c.is_file():
            return c
    return candidates[0]


# --------------------------------------------------------------------------- parsing


def split_front_matter(text: str) -> tuple[str, str, int]:
    """Return (front matter text, body, line number where the body starts)."""
    m = _FRONT.match(text)
    if not m:
        return "", text, 1
    return m.group(1), text[m.end():], text[: m.end()].count("\n") + 1


# A lesson's front matter is read without PyYAML when every line is a plain
# ``key: value`` (importing yaml was a tenth of the app's start-up).  The reader accepts
# only forms whose YAML meaning is certain and returns None for anything else, which then
# goes to yaml.safe_load: the result, and every error message, is what yaml gives.
_FM_KEY = re.compile(r"([A-Za-z_][A-Za-z0-9_-]*):(?: +(.*))?")
# a plain scalar YAML reads as a string: starts with a letter; no spaces, flow or comment
# characters; not one of YAML 1.1's booleans or nulls (_FM_NOT_STR, any case)
_FM_PLAIN = re.compile(r"[A-Za-z][A-Za-z0-9_./-]*")
_FM_QUOTED = re.compile(r"\"([^\"\\]*)\"|'([^']*)'")
_FM_INT = re.compile(r"0|[1-9][0-9]{0,17}")
_FM_NOT_STR = {"y", "n", "yes", "no", "true", "false", "on", "off", "null"}


def _fm_scalar(text: str, *, in_list: bool = False) -> tuple[bool, Any]:
    """(True, value) for a scalar the reader is sure of, else (False, None)."""
    m = _FM_QUOTED.fullmatch(text)
    if m:
        value = m.group(1) if m.group(1) is not None else m.group(2)
        return not (in_list and "," in value), value
    if not in_list and _FM_INT.fullmatch(text):
        return True, int(text)
    if _FM_PLAIN.fullmatch(text) and text.lower() not in _FM_NOT_STR:
        return True, text
    return False, None


def _strip_comment(value: str) -> str:
    """The value without a trailing `` # comment`` (a quoted value holds no ``#`` here)."""
    at = value.find(" #")
    if at >= 0 and "#" not in value[:at]:
        value = value[:at]
    return value.strip()


def _plain_front_matter(front: str) -> dict[str, Any] | None:
    """The front matter as yaml.safe_load reads it, or None when it is not plain enough."""
    front = front.replace("\r\n", "\n")
    if not all(ch.isprintable() or ch == "\n" for ch in front):
        return None  # tabs, control characters (yaml refuses some): yaml's business
    meta: dict[str, Any] = {}
    lines = front.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line.strip() or line.startswith("#"):
            continue
        m = _FM_KEY.fullmatch(line)
        if m is None or m.group(1) in meta or m.group(1).lower() in _FM_NOT_STR:
            return None
        key, value = m.group(1), _strip_comment(m.group(2) or "")
        if value.startswith("["):  # a flow list, maybe continued on indented lines
            while not value.endswith("]") and i < len(lines) and lines[i].startswith(" ") and "#" not in lines[i]:
                value += " " + lines[i].strip()
                i += 1
            if not value.endswith("]") or value.count("]") != 1:
                return None
            items = [_fm_scalar(raw.strip(), in_list=True) for raw in value[1:-1].split(",")]
            if not all(ok for ok, _ in items):
                return None  # also [] and a trailing comma: left to yaml
            meta[key] = [item for _, item in items]
            continue
        ok, scalar = _fm_scalar(value)
        if not ok or "#" in value:
            return None
        meta[key] = scalar
    return meta or None


def _check(meta: Any, where: str) -> list[str]:
    errs: list[str] = []
    if not isinstance(meta, dict):
        return [f"{where}:1: front matter must be a mapping of keys to values"]
    for key in REQUIRED:
        if key not in meta:
            errs.append(f"{where}:1: front matter: missing required key {key!r}")
    if "title" in meta and (not isinstance(meta["title"], str) or not meta["title"].strip()):
        errs.append(f"{where}:1: title: must be a non-empty string (quote it: YAML reads no, yes, 1.0 … as other types)")
    if "scenario" in meta and (not isinstance(meta["scenario"], str) or not meta["scenario"]):
        errs.append(f"{where}:1: scenario: must be a path such as scenarios/clusterip.yaml")
    if "flows" in meta:
        flows = meta["flows"]
        if isinstance(flows, str):
            flows = [flows]
        if not isinstance(flows, list) or not flows or not all(
            isinstance(f, str) and f for f in flows
        ):
            errs.append(f"{where}:1: flows: must be a non-empty list of flow names")
    if "minutes" in meta and (
        isinstance(meta["minutes"], bool) or not isinstance(meta["minutes"], int) or meta["minutes"] <= 0
    ):
        errs.append(f"{where}:1: minutes: must be a positive whole number")
    for key in OPTIONAL:
        if key in meta and meta[key] is not None and not isinstance(meta[key], (str, list, dict)):
            errs.append(f"{where}:1: {key}: must be a string, a list or a mapping")
    return errs


def parse_lesson(path: str | Path) -> Lesson:
    """Parse one lesson file; raises :class:`LessonError` with a clear message."""
    path = Path(path)
    where = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LessonError(f"{where}: cannot read: {exc}") from None
    front, source_body, body_line = split_front_matter(text)
    if not front:
        raise LessonError(f"{where}:1: no front matter (the file must start with a '---' line)")
    meta = _plain_front_matter(front)
    if meta is None:
        import yaml

        try:
            meta = yaml.safe_load(front)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 2 if mark is not None else 1
            raise LessonError(f"{where}:{line}: front matter is not valid YAML: {getattr(exc, 'problem', exc)}") from None
    errs = _check(meta, where)
    if errs:
        raise LessonError("\n".join(errs))
    flows = meta["flows"]
    if isinstance(flows, str):
        flows = [flows]
    extra = {k: v for k, v in meta.items() if k not in REQUIRED + OPTIONAL}
    body, answers = split_answers(source_body, first_line=body_line)
    return Lesson(
        id=path.stem,
        path=path,
        title=meta["title"].strip(),
        scenario=resolve_scenario(meta["scenario"], path),
        scenario_ref=meta["scenario"],
        flows=tuple(flows),
        minutes=int(meta["minutes"]),
        body=body,
        quiz=meta.get("quiz"),
        case=meta.get("case"),
        extra=extra,
        answers=tuple(answers),
        source_body=source_body,
        body_line=body_line,
    )


def lesson_files(directory: str | Path | None = None) -> list[Path]:
    d = Path(directory) if directory is not None else lessons_dir()
    if not d.is_dir():
        return []
    return sorted(p for p in d.glob("*.md") if not p.name.startswith(("_", ".")) and p.name.lower() != "readme.md")


def discover(directory: str | Path | None = None) -> tuple[list[Lesson], list[str]]:
    """All lessons in order, plus one error message per file that could not be used."""
    lessons: list[Lesson] = []
    errors: list[str] = []
    for p in lesson_files(directory):
        try:
            lessons.append(parse_lesson(p))
        except LessonError as exc:
            errors.append(str(exc))
    return lessons, errors


def _scenario_flow_names(path: Path) -> tuple[list[str] | None, str | None]:
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        return None, f"cannot read: {exc}"
    except yaml.YAMLError as exc:
        return None, f"not valid YAML: {getattr(exc, 'problem', exc)}"
    if not isinstance(data, dict):
        return None, "not a scenario (expected a mapping at the top)"
    flows = data.get("flows") or []
    if not isinstance(flows, list):
        return None, "flows: must be a list"
    return [f.get("name") for f in flows if isinstance(f, dict)], None


def validate(paths: Iterable[str | Path]) -> list[str]:
    """Check lesson files; return one message per problem (empty list = all good).

    Checks the front matter (required keys and their types), that the scenario file
    exists and parses as YAML, that every listed flow is defined in it, that the
    ``quiz:`` file and the ``case:`` ids can be used, and that every "Check yourself"
    section has its answer key.
    """
    errors: list[str] = []
    titles: dict[str, Path] = {}
    for raw in paths:
        path = Path(raw)
        try:
            lesson = parse_lesson(path)
        except LessonError as exc:
            errors.extend(str(exc).splitlines())
            continue
        if not lesson.body.strip():
            errors.append(f"{path}: the lesson has no text after the front matter")
        for line, has_key in check_sections(lesson.source_body):
            if not has_key:
                errors.append(f"{path}:{lesson.body_line + line - 1}: the Check yourself section has no answer "
                              "key (end it with a ```answer fence holding the answer)")
        for m in re.finditer(r"^(`{3,}|~{3,})[ \t]*answer[ \t]*$", lesson.body, re.M):
            line = lesson.body.count("\n", 0, m.start()) + lesson.body_line
            errors.append(f"{path}: an ```answer fence is not closed (its text would show): near line {line}")
        if lesson.title in titles:
            errors.append(f"{path}:1: title: {lesson.title!r} is also used by {titles[lesson.title]}")
        titles.setdefault(lesson.title, path)
        if not lesson.scenario.is_file():
            errors.append(f"{path}:1: scenario: file not found: {lesson.scenario_ref}")
            continue
        names, err = _scenario_flow_names(lesson.scenario)
        if err:
            errors.append(f"{path}:1: scenario {lesson.scenario_ref}: {err}")
            continue
        for f in lesson.flows:
            if f not in (names or []):
                known = ", ".join(n for n in names or [] if n) or "none"
                errors.append(
                    f"{path}:1: flows: {f!r} is not a flow of {lesson.scenario_ref} (it has: {known})"
                )
        # the authored quiz and the troubleshooting cases it names must exist and parse
        for check in (quiz_items, case_paths):
            try:
                check(lesson)
            except QuizSpecError as exc:
                errors.append(str(exc))
    return errors


# --------------------------------------------------------------------------- quizzes


class QuizSpecError(LessonError):
    """The ``quiz:`` or ``case:`` of a lesson cannot be used."""


def _find_file(ref: str, lesson: Lesson) -> Path | None:
    p = Path(ref).expanduser()
    if p.is_absolute():
        return p if p.is_file() else None
    base = lesson.path.resolve().parent
    for c in (base / p, base.parent / p, scenarios_dir().parent / p):
        if c.is_file():
            return c
    return None


def quiz_items(lesson: Lesson) -> list[Any]:
    """The raw authored quiz items of a lesson ([] without ``quiz:``)."""
    spec = lesson.quiz
    if spec is None:
        return []
    where = str(lesson.path)
    if isinstance(spec, str) and spec.strip() != "standard":
        f = _find_file(spec, lesson)
        if f is None:
            raise QuizSpecError(f"{where}:1: quiz: file not found: {spec}")
        import yaml

        try:
            data = yaml.safe_load(f.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise QuizSpecError(f"{f}: cannot read the quiz: {exc}") from None
        where = str(f)
    else:
        data = spec
    if isinstance(data, dict):
        data = data.get("questions", [])
    if isinstance(data, str):
        data = [data]
    if not isinstance(data, list):
        raise QuizSpecError(f"{where}: quiz: expected a list of questions")
    return data


def authored_questions(lesson: Lesson, scenario: Any) -> tuple[list[Any], list[Any]]:
    """(multiple-choice ``Question``s, ``CommandQuestion``s) authored for a lesson."""
    from kubeflow_tui.quiz import CommandQuestion, Question, standard_command_questions

    mc: list[Any] = []
    cmds: list[Any] = []
    where = str(lesson.path)
    default_host = _flow_node(scenario, lesson.flows[0] if lesson.flows else None)
    name = getattr(scenario, "name", lesson.id)
    for i, item in enumerate(quiz_items(lesson)):
        if item == "standard":
            cmds += standard_command_questions(scenario, flow=lesson.flows[0] if lesson.flows else None)
            continue
        if not isinstance(item, dict):
            raise QuizSpecError(f"{where}: quiz item {i + 1}: expected a mapping or 'standard'")
        if "command" in item:
            cmds.append(CommandQuestion(
                id=f"{lesson.id}/command/{i + 1}", prompt=str(item.get("prompt") or item.get("question") or
                                                             f"Type: {item['command']}"),
                reference=str(item["command"]), host=str(item.get("host") or default_host),
                hints=tuple(str(h) for h in item.get("hints", []) or []), scenario=name))
            continue
        try:
            options = tuple(str(o) for o in item["options"])
            answer = int(item["answer"])
            prompt = str(item["question"])
        except (KeyError, TypeError, ValueError):
            raise QuizSpecError(f"{where}: quiz item {i + 1}: a question needs question, options and "
                                "answer (0-based), or command") from None
        if not 0 <= answer < len(options) or len(options) < 2:
            raise QuizSpecError(f"{where}: quiz item {i + 1}: answer {answer} is not an option index")
        mc.append(Question(f"{lesson.id}/authored/{i + 1}", "authored", prompt, options, answer,
                           str(item.get("explanation", "")), int(item.get("step", 0) or 0), name,
                           str(item.get("flow") or (lesson.flows[0] if lesson.flows else "")),
                           str(item.get("host", ""))))
    return mc, cmds


def _flow_node(scenario: Any, flow: str | None) -> str:
    nodes = [n.name for n in getattr(getattr(scenario, "cluster", None), "nodes", [])]
    node = nodes[0] if nodes else ""
    if flow is None:
        return node
    try:
        f = scenario.flow(flow)
    except Exception:
        return node
    src = getattr(f, "from_", None)
    if src in nodes:
        return src
    for p in getattr(scenario, "pods", []):
        if p.name == src:
            return p.node
    return node


def case_paths(lesson: Lesson) -> list[Path]:
    """The case files a lesson's ``case:`` names (one id or a list of ids; [] without)."""
    ref = lesson.case
    if not ref:
        return []
    refs = ref if isinstance(ref, list) else [ref]
    from kubeflow_tui.quiz import find_case, list_cases

    out: list[Path] = []
    for r in refs:
        if not isinstance(r, str) or not r:
            raise QuizSpecError(f"{lesson.path}:1: case: must be a case id such as 09-one-client-hangs, or a list")
        f = _find_file(r, lesson) or find_case(r)
        if f is None:
            known = ", ".join(c.stem for c in list_cases()) or "none"
            raise QuizSpecError(f"{lesson.path}:1: case: no case named {r!r} (cases: {known})")
        out.append(f)
    return out
