"""Load a scenario from YAML, with every error pointing at ``file:line:col``.

PyYAML's safe loader only composes the node graph; the loader builds the plain data
itself so that it can remember each value's position, refuse duplicate keys, merge
keys and unknown tags, and bound what aliases may expand to.  pydantic validates the
data strictly (YAML already gives real ints and booleans: ``port: "8080"`` is an
error), then :func:`~kubeflow_tui.scenario.crosscheck.cross_check` checks references.
Every pydantic error is mapped back to the YAML node it came from.
"""

from __future__ import annotations

import datetime
import difflib
import os
import re
import typing
from typing import Any, Union

import yaml
from pydantic import BaseModel, ValidationError
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .errors import ErrorDetail, ScenarioError
from .models import Scenario

MAX_BYTES = 5 * 1024 * 1024  # a scenario is a few kilobytes; 5 MiB is generous
MAX_ALIASES = 32  # aliases (*name) per file: enough to reuse labels, too few for a bomb
MAX_NODES = 100_000  # YAML values after expanding aliases (a big scenario has a few thousand)
MAX_DEPTH = 64  # nesting of mappings and sequences

_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_MERGE = "tag:yaml.org,2002:merge"

_SCALAR_TAGS = {
    "tag:yaml.org,2002:" + t for t in ("str", "int", "float", "bool", "null", "timestamp")
}

PathT = tuple[Union[str, int], ...]


def _tag(tag: str) -> str:
    return "!!" + tag[len("tag:yaml.org,2002:"):] if tag.startswith("tag:yaml.org,2002:") else tag


class _Stop(Exception):
    """Internal: a problem that ends loading, at a YAML mark."""

    def __init__(self, message: str, mark: Any = None):
        super().__init__(message)
        self.message = message
        self.mark = mark


class _Loader(yaml.SafeLoader):
    """SafeLoader (pure Python, so marks are exact) that bounds aliases and nesting."""

    def __init__(self, stream: str):
        super().__init__(stream)
        self._aliases = 0
        self._depth = 0

    def compose_node(self, parent, index):  # type: ignore[override]
        if self.check_event(AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise _Stop(
                    f"too many aliases (more than {MAX_ALIASES}); write the values out "
                    "instead of using anchors and aliases",
                    self.peek_event().start_mark,
                )
            return super().compose_node(parent, index)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _Stop(f"nested more than {MAX_DEPTH} levels deep", self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


# ---------------------------------------------------------------------------------
# public API
# ---------------------------------------------------------------------------------


def load_scenario(path: str | os.PathLike[str]) -> Scenario:
    """Load and check a scenario file; raises :class:`ScenarioError`."""
    source = os.fspath(path)
    try:
        with open(source, "rb") as fh:
            try:
                size = os.fstat(fh.fileno()).st_size
            except OSError:  # pragma: no cover - exotic file systems
                size = 0
            if size > MAX_BYTES:
                raise _too_large(source, size)
            data = fh.read(MAX_BYTES + 1)  # never more than the limit, even for pipes
    except OSError as e:
        raise ScenarioError.single(source, f"cannot read the file: {e.strerror or e}") from None
    if len(data) > MAX_BYTES:
        raise _too_large(source, None)
    return _load_bytes(data, source)


def load_scenario_text(text: str, source: str = "<string>") -> Scenario:
    """Load and check a scenario from YAML text; raises :class:`ScenarioError`."""
    if len(text) > MAX_BYTES:
        raise _too_large(source, len(text.encode("utf-8", "surrogatepass")))
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_BYTES:
        raise _too_large(source, size)
    return _load_str(text, source)


# ---------------------------------------------------------------------------------


def _too_large(source: str, size: int | None) -> ScenarioError:
    got = f"{size:,} bytes" if size is not None else f"more than {MAX_BYTES:,} bytes"
    return ScenarioError.single(
        source, f"file is too large: {got} (the limit is {MAX_BYTES:,} bytes)"
    )


def _load_bytes(data: bytes, source: str) -> Scenario:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        before = data[: e.start].decode("utf-8", "replace")
        line = before.count("\n") + 1
        col = len(before) - (before.rfind("\n") + 1) + 1
        raise ScenarioError.single(
            source,
            f"not UTF-8 text: byte 0x{data[e.start]:02x} cannot be decoded",
            line=line,
            column=col,
        ) from None
    return _load_str(text, source)


def _pos(text: str, index: int) -> tuple[int, int]:
    line = text.count("\n", 0, index) + 1
    col = index - (text.rfind("\n", 0, index) + 1) + 1
    return line, col


def _load_str(text: str, source: str) -> Scenario:
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        loader = _Loader(text)
        try:
            root = loader.get_single_node()
        finally:
            loader.dispose()
    except _Stop as e:
        raise _at(source, e.mark, "", e.message) from None
    except yaml.reader.ReaderError as e:
        line, col = _pos(text, e.position)
        raise ScenarioError.single(
            source,
            f"character U+{_ord(e.character):04X} is not allowed in YAML",
            line=line,
            column=col,
        ) from None
    except yaml.MarkedYAMLError as e:
        raise _at(source, e.problem_mark or e.context_mark, "", _yaml_message(e)) from None
    except yaml.YAMLError as e:  # pragma: no cover - other PyYAML errors carry no mark
        raise ScenarioError.single(source, f"invalid YAML: {e}") from None
    except RecursionError:  # pragma: no cover - MAX_DEPTH stops this first
        raise ScenarioError.single(source, "invalid YAML: nested too deeply") from None

    if root is None:
        raise ScenarioError.single(
            source,
            "the file is empty: expected a mapping with name, cluster, pods, services, flows",
            line=1,
            column=1,
        )
    if not isinstance(root, MappingNode) or root.tag != _MAP:
        raise _at(
            source,
            root.start_mark,
            "",
            f"the top level must be a mapping (name:, cluster:, ...), not {_node_kind(root)}",
        )
    builder = _Builder(loader, source)
    data = builder.build(root, (), 0, frozenset())
    if builder.errors:
        raise ScenarioError(_sorted(builder.errors))

    context: dict[str, Any] = {"issues": []}
    try:
        scenario = Scenario.model_validate(
            data, strict=True, by_alias=True, by_name=False, context=context
        )
    except ValidationError as e:
        raise ScenarioError(_sorted(_map_validation(e, data, builder))) from None
    if context["issues"]:
        details = [builder.detail(path, msg) for path, msg in context["issues"]]
        raise ScenarioError(_sorted(details))
    return scenario


def _sorted(errors: list[ErrorDetail]) -> list[ErrorDetail]:
    def key(e: ErrorDetail):
        return (e.line is None, e.line or 0, e.column or 0)

    seen: set[ErrorDetail] = set()
    out = []
    for e in sorted(errors, key=key):
        if e not in seen:
            seen.add(e)
            out.append(e)
    return out


def _at(source: str, mark: Any, field: str, message: str) -> ScenarioError:
    line = mark.line + 1 if mark is not None else None
    col = mark.column + 1 if mark is not None else None
    return ScenarioError([ErrorDetail(source, line, col, field, message)])


def _ord(c: Any) -> int:
    return c if isinstance(c, int) else ord(c) if isinstance(c, str) and len(c) == 1 else 0


def _yaml_message(e: yaml.MarkedYAMLError) -> str:
    problem = (e.problem or "").strip()
    context = (e.context or "").strip()
    other_line = (
        e.context_mark is not None
        and e.problem_mark is not None
        and e.context_mark.line != e.problem_mark.line
    )
    where = f" at line {e.context_mark.line + 1}" if other_line else ""
    if not problem:
        msg = context or "invalid YAML"
    elif not context:
        msg = problem
    elif problem.startswith("but "):
        msg = f"{context}{where}, {problem}"
    else:
        msg = f"{problem} ({context}{where})"
    return f"invalid YAML: {msg}"


def _node_kind(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping" if node.tag == _MAP else f"a {node.tag} mapping"
    if isinstance(node, SequenceNode):
        return "a sequence"
    if node.tag == "tag:yaml.org,2002:null":
        return "null"
    return f"a scalar ({_short(node.value)})"


def _short(value: Any, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# ---------------------------------------------------------------------------------
# node graph -> plain data, remembering marks
# ---------------------------------------------------------------------------------


class _Builder:
    def __init__(self, loader: _Loader, source: str):
        self.loader = loader
        self.source = source
        self.value_marks: dict[PathT, Any] = {}
        self.key_marks: dict[PathT, Any] = {}
        self.nodes = 0
        self.errors: list[ErrorDetail] = []

    def error(self, mark: Any, path: PathT, message: str) -> None:
        self.errors.append(
            ErrorDetail(
                self.source,
                mark.line + 1 if mark is not None else None,
                mark.column + 1 if mark is not None else None,
                format_path(path),
                message,
            )
        )

    def build(self, node: Node, path: PathT, depth: int, stack: frozenset[int]) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise _at(
                self.source,
                node.start_mark,
                format_path(path),
                f"more than {MAX_NODES:,} values once aliases are expanded "
                "(an alias bomb?)",
            )
        if depth > MAX_DEPTH * 2:
            raise _at(self.source, node.start_mark, format_path(path),
                      "nested too deeply once aliases are expanded")
        if id(node) in stack:
            raise _at(self.source, node.start_mark, format_path(path),
                      "an alias refers to a value that contains it (recursive alias)")
        self.value_marks.setdefault(path, node.start_mark)

        if isinstance(node, ScalarNode):
            if node.tag not in _SCALAR_TAGS:
                self.error(node.start_mark, path, f"tag {_tag(node.tag)} is not supported here")
                return None
            try:
                return self.loader.construct_object(node)
            except yaml.MarkedYAMLError as e:
                self.error(e.problem_mark or node.start_mark, path, _yaml_message(e))
            except Exception as e:  # bad timestamps, ints past Python's digit limit ...
                reason = str(e).split(";")[0].split(": value has")[0]
                self.error(node.start_mark, path, f"cannot read {_short(node.value, 24)}: {reason}")
            return None

        inner = stack | {id(node)}
        if isinstance(node, SequenceNode):
            if node.tag != _SEQ:
                self.error(node.start_mark, path, f"tag {_tag(node.tag)} is not supported here")
                return None
            return [self.build(v, path + (i,), depth + 1, inner) for i, v in enumerate(node.value)]

        assert isinstance(node, MappingNode)
        if node.tag != _MAP:
            self.error(node.start_mark, path, f"tag {_tag(node.tag)} is not supported here")
            return None
        out: dict[str, Any] = {}
        first: dict[str, Any] = {}
        for knode, vnode in node.value:
            if not isinstance(knode, ScalarNode):
                self.error(knode.start_mark, path, "a mapping key must be a plain string")
                continue
            if knode.tag == _MERGE:
                self.error(knode.start_mark, path,
                           "merge keys (<<) are not supported; write the keys out")
                continue
            try:
                key = self.loader.construct_object(knode)
            except Exception:
                key = knode.value
            if not isinstance(key, str):
                self.error(knode.start_mark, path,
                           f"mapping key {knode.value!r} must be a string; quote it")
                continue
            if key in first:
                self.error(
                    knode.start_mark,
                    path + (key,),
                    f"duplicate key {key!r} (first at line {first[key].line + 1})",
                )
                continue
            first[key] = knode.start_mark
            self.key_marks[path + (key,)] = knode.start_mark
            out[key] = self.build(vnode, path + (key,), depth + 1, inner)
        return out

    # --- locating ----------------------------------------------------------------

    def locate(self, data: Any, loc: tuple) -> tuple[PathT, Any, bool]:
        """Follow a pydantic loc through the data; skip union tags; return
        (path, mark, missing) where missing says the last key is absent."""
        path: list[str | int] = []
        cur = data
        missing = False
        for i, el in enumerate(loc):
            if isinstance(cur, dict) and isinstance(el, str) and el in cur:
                path.append(el)
                cur = cur[el]
            elif isinstance(cur, list) and isinstance(el, int) and 0 <= el < len(cur):
                path.append(el)
                cur = cur[el]
            elif isinstance(cur, dict) and isinstance(el, str) and i == len(loc) - 1:
                path.append(el)
                missing = True
            # anything else is a union member tag such as 'int' or 'function-after[...]'
        tpath = tuple(path)
        if missing:
            mark = self.value_marks.get(tpath[:-1])
        else:
            mark = self.value_marks.get(tpath)
        return tpath, mark, missing

    def detail(self, path: PathT, message: str, data: Any = None) -> ErrorDetail:
        mark = self.value_marks.get(path)
        probe = path
        while mark is None and probe:
            probe = probe[:-1]
            mark = self.value_marks.get(probe)
        return ErrorDetail(
            self.source,
            mark.line + 1 if mark is not None else None,
            mark.column + 1 if mark is not None else None,
            format_path(path),
            message,
        )


_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def format_path(path: PathT) -> str:
    """('services', 0, 'ports', 1, 'targetPort') -> 'services[0].ports[1].targetPort'."""
    out = ""
    for el in path:
        if isinstance(el, int):
            out += f"[{el}]"
        elif _IDENT.match(el):
            out += f".{el}" if out else el
        else:
            out += "[" + repr(el) + "]"
    return out


# ---------------------------------------------------------------------------------
# pydantic errors -> located messages
# ---------------------------------------------------------------------------------


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"the number {value}"
    if isinstance(value, float):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the string {_short(value)}"
    if isinstance(value, list):
        return "a sequence"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, (datetime.date, datetime.datetime)):
        return f"a date ({value.isoformat()})"
    if isinstance(value, bytes):
        return "binary data"
    return type(value).__name__


_EXPECT = {
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "string_type": "a string",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "list_type": "a sequence",
}


def _model_at(path: PathT) -> type[BaseModel] | None:
    """The model class whose fields live at ``path`` (list indices skipped)."""
    model: type[BaseModel] | None = Scenario
    for el in path:
        if isinstance(el, int) or model is None:
            continue
        field = next(
            (f for n, f in model.model_fields.items() if (f.alias or n) == el), None
        )
        if field is None:
            return None
        model = _inner_model(field.annotation)
    return model


def _inner_model(tp: Any) -> type[BaseModel] | None:
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return tp
    for arg in typing.get_args(tp):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def _allowed_keys(model: type[BaseModel]) -> list[str]:
    return [f.alias or n for n, f in model.model_fields.items()]


def _message(err: dict, path: PathT) -> str:
    kind = err["type"]
    value = err.get("input")
    if kind == "scenario":
        return str(err["ctx"]["msg"])
    if kind == "missing":
        return f"missing required key {path[-1]!r}"
    if kind == "extra_forbidden":
        key = path[-1] if path else "?"
        model = _model_at(path[:-1])
        if model is None:
            return f"unknown key {key!r}"
        allowed = _allowed_keys(model)
        lower = {a.lower(): a for a in allowed}
        close = difflib.get_close_matches(str(key).lower(), list(lower), n=1, cutoff=0.6)
        if close:
            return f"unknown key {key!r}; did you mean {lower[close[0]]!r}?"
        return f"unknown key {key!r} (allowed here: {', '.join(allowed)})"
    if kind in _EXPECT:
        msg = f"expected {_EXPECT[kind]}, got {_describe(value)}"
        if kind == "string_type" and isinstance(value, (int, float, bool)):
            msg += " (quote it to make it a string)"
        return msg
    if kind == "string_pattern_mismatch":
        return (
            f"{_short(value)} is not a valid name: use lowercase letters, digits and '-', "
            "starting and ending with a letter or digit"
        )
    if kind == "literal_error":
        return f"{err['msg'].replace('Input should be', 'expected')}, got {_describe(value)}"
    msg = err["msg"]
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        msg = msg.replace("Input should be", "must be") + f", got {_describe(value)}"
    return msg


def _map_validation(exc: ValidationError, data: Any, builder: _Builder) -> list[ErrorDetail]:
    grouped: dict[PathT, list[tuple[dict, Any]]] = {}
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        if err["type"] == "scenario":
            loc = loc + tuple(err["ctx"].get("at", ()))
        path, mark, missing = builder.locate(data, loc)
        if err["type"] == "extra_forbidden":
            mark = builder.key_marks.get(path, mark)
        grouped.setdefault(path, []).append((err, mark))
    # "unknown key 'podCidr'; did you mean 'podCIDR'?" already says what the
    # "missing required key 'podCIDR'" error of the same mapping would say
    for path, errs in list(grouped.items()):
        if errs[0][0]["type"] == "extra_forbidden":
            suggestion = _message(errs[0][0], path).partition("did you mean ")[2].strip("'?")
            twin = path[:-1] + (suggestion,)
            if suggestion and all(e["type"] == "missing" for e, _ in grouped.get(twin, [])):
                grouped.pop(twin, None)
    out: list[ErrorDetail] = []
    for path, errs in grouped.items():
        # several errors for one value come from the branches of a union
        # (targetPort: int or str): say it once
        if any(err["type"] == "scenario" for err, _ in errs):
            # a union branch that matched the type failed our own check: the type
            # errors of the other branches are noise
            errs = [(err, m) for err, m in errs if err["type"] not in _EXPECT] or errs
        msgs: list[str] = []
        for err, _ in errs:
            m = _message(err, path)
            if m not in msgs:
                msgs.append(m)
        if len(msgs) > 1 and all(m.startswith("expected ") for m in msgs):
            got = msgs[0].rsplit(", got ", 1)[-1]
            wants = [m[len("expected "):].rsplit(", got ", 1)[0] for m in msgs]
            msgs = [f"expected {' or '.join(wants)}, got {got}"]
        mark = errs[0][1]
        for m in msgs:
            out.append(
                ErrorDetail(
                    builder.source,
                    mark.line + 1 if mark is not None else None,
                    mark.column + 1 if mark is not None else None,
                    format_path(path),
                    m,
                )
            )
    return out
