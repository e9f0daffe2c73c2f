"""Read what ``kubectl get … -o yaml`` / ``-o json`` prints: a ``kind: List``, single
objects, several YAML documents or concatenated JSON values, from files or stdin.

Reading is fast, and the objects are always the ones PyYAML's safe loader makes: YAML by
building objects straight from libyaml's events (``yaml.parse`` with PyYAML's C parser; the safe
loader's typing of plain scalars), not through PyYAML's node graph and constructor, which cost
fifteen times the parse; what kubectl never prints (anchors, tags, merge keys) goes to PyYAML's
own loader.  Bad YAML is always reported by PyYAML, with its ``line:col``.

JSON is read by ``json``.  Python's cyclic garbage collector is held off while a dump's millions
of objects are made.  Positions are worked out only when something is wrong: :func:`locate`
composes the document again and walks to the object (and the field inside it) to get its
``line:col``.
"""

from __future__ import annotations

import gc
import json
import os
import re
import sys
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, BinaryIO, Union

import yaml

# A kubectl dump is far bigger than a scenario (the scenario loader stops at 5 MiB):
# `kubectl get pods -o yaml` prints 3-5 KB per pod even without managedFields, so the
# benchmark's cluster of 10,000 pods and 2,000 Services is about 60 MB.  256 MiB leaves
# room for four times that (~40,000 pods) while bounding the memory a parse can take
# (Python's objects are ~10x the text: a few GB at the limit, not unbounded).
MAX_BYTES = 256 * 1024 * 1024

_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

PathT = tuple[Union[str, int], ...]


class DumpError(ValueError):
    """A problem with a kubectl dump: ``str()`` is ``file:line:col: message``."""

    def __init__(self, source: str, message: str, line: int | None = None,
                 column: int | None = None):
        self.source, self.message, self.line, self.column = source, message, line, column
        where = source if line is None else f"{source}:{line}:{column or 1}"
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class Where:
    """Where an object came from: the input, its text, the document and the item."""

    source: str
    text: str
    doc: int  # index of the YAML document / JSON value in the input
    json: bool
    item: int | None  # index in a List's items, None for a top-level object

    def at(self, *path: str | int) -> tuple[int | None, int | None]:
        """1-based (line, column) of ``path`` inside the object (or the closest parent)."""
        return locate(self, path)

    def error(self, message: str, *path: str | int) -> DumpError:
        line, col = self.at(*path)
        return DumpError(self.source, message, line, col)


@dataclass
class Obj:
    """One Kubernetes object of a dump."""

    data: dict[str, Any]
    where: Where

    @property
    def kind(self) -> str:
        return self.data.get("kind") or ""

    @property
    def meta(self) -> dict[str, Any]:
        m = self.data.get("metadata")
        return m if isinstance(m, dict) else {}

    @property
    def name(self) -> str:
        return self.meta.get("name") or ""

    @property
    def namespace(self) -> str:
        return self.meta.get("namespace") or ""

    @property
    def ref(self) -> str:
        """``Pod default/web-1``, ``Node kind-worker``."""
        ns = self.namespace
        return f"{self.kind} {ns + '/' if ns else ''}{self.name}"


# ----------------------------------------------------------------------------- reading


def read_source(path: str, stdin: BinaryIO | None = None, what: str = "") -> tuple[str, str]:
    """(source name, text) of a file or ``-`` (stdin); the size limit is checked first."""
    if path == "-":
        source = "<stdin>"
        fh = stdin if stdin is not None else sys.stdin.buffer
        data = fh.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            raise DumpError(source, _too_large(None, what))
    else:
        source = path
        try:
            with open(path, "rb") as f:
                try:
                    size = os.fstat(f.fileno()).st_size
                except OSError:  # pragma: no cover - exotic file systems
                    size = 0
                if size > MAX_BYTES:
                    raise DumpError(source, _too_large(size, what))
                data = f.read(MAX_BYTES + 1)
        except OSError as e:
            raise DumpError(source, f"cannot read the file: {e.strerror or e}") from None
        if len(data) > MAX_BYTES:
            raise DumpError(source, _too_large(None, what))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        before = data[: e.start].decode("utf-8", "replace")
        line, col = before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1
        raise DumpError(source, f"not UTF-8 text: byte 0x{data[e.start]:02x} cannot be decoded",
                        line, col) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    return source, text


def _too_large(size: int | None, what: str = "") -> str:
    """``what``: the kind of dump when it is not kubectl's (``iptables-save output``)."""
    got = f"{size:,} bytes" if size is not None else f"more than {MAX_BYTES:,} bytes"
    if what:
        return f"file is too large: {got} (the limit for {what} is {MAX_BYTES:,} bytes)"
    return (f"file is too large: {got} (the limit for a kubectl dump is {MAX_BYTES:,} bytes, "
            "about 40,000 pods)")


def _looks_json(text: str) -> bool:
    s = text.lstrip()
    return s.startswith("{") or s.startswith("[")


def parse_text(text: str, source: str) -> list[Obj]:
    """Every object of one input, Lists unpacked, in order."""
    is_json = _looks_json(text)
    docs = _json_docs(text, source) if is_json else _yaml_docs(text, source)
    out: list[Obj] = []
    for d, doc in enumerate(docs):
        if doc is None:
            continue
        where = Where(source, text, d, is_json, None)
        if isinstance(doc, list):
            raise where.error("expected a Kubernetes object or a List (kind: List, items: …), "
                              "not a bare sequence")
        if not isinstance(doc, dict):
            raise where.error(f"expected a Kubernetes object or a List, not {_kind_of(doc)}; "
                              "make the dump with `kubectl get nodes,pods,services,endpointslices "
                              "-A -o yaml`")
        kind = doc.get("kind")
        if (not kind or not isinstance(kind, str)) and isinstance(doc.get("items"), list):
            # kubectl prints a List's kind after its items: a List cut short has none
            raise where.error("a List without its kind (kubectl prints `kind: List` after the "
                              "items): the file looks truncated", "items")
        if not isinstance(kind, str) or not kind:
            raise where.error("not a Kubernetes object: it has no kind (make the dump with "
                              "`kubectl get nodes,pods,services,endpointslices -A -o yaml`)")
        if kind.endswith("List") and "items" in doc:
            items = doc["items"]
            if items is None:
                continue
            if not isinstance(items, list):
                raise where.error(f"items must be a sequence, not {_kind_of(items)}", "items")
            for i, item in enumerate(items):
                w = Where(source, text, d, is_json, i)
                if not isinstance(item, dict):
                    raise w.error(f"items[{i}] must be a Kubernetes object, not {_kind_of(item)}")
                _check_object(item, w)
                out.append(Obj(item, w))
        else:
            _check_object(doc, where)
            out.append(Obj(doc, where))
    return out


def _check_object(data: dict, where: Where) -> None:
    kind = data.get("kind")
    if not isinstance(kind, str) or not kind:
        raise where.error("not a Kubernetes object: it has no kind")
    meta = data.get("metadata")
    if not isinstance(meta, dict):
        raise where.error(f"{kind} has no metadata (truncated?)", "metadata")
    name = meta.get("name")
    if not isinstance(name, str) or not name:
        raise where.error(f"{kind} has no metadata.name (truncated?)", "metadata")


def _kind_of(v: Any) -> str:
    if v is None:
        return "nothing"
    if isinstance(v, bool):
        return "a boolean"
    if isinstance(v, (int, float)):
        return "a number"
    if isinstance(v, str):
        return "a string"
    if isinstance(v, list):
        return "a sequence"
    return "a mapping"


def _json_docs(text: str, source: str) -> list[Any]:
    dec = json.JSONDecoder()
    docs, i, n = [], 0, len(text)
    while True:
        while i < n and text[i] in " \t\r\n":
            i += 1
        if i >= n:
            break
        try:
            doc, i = dec.raw_decode(text, i)
        except json.JSONDecodeError as e:
            msg = e.msg
            if e.pos >= len(text.rstrip()):
                msg += " (the JSON ends early: truncated?)"
            raise DumpError(source, f"invalid JSON: {msg}", e.lineno, e.colno) from None
        except RecursionError:
            raise DumpError(source, "invalid JSON: nested too deeply") from None
        docs.append(doc)
    if not docs:
        raise DumpError(source, "the input is empty", 1, 1)
    return docs


class _Unusual(Exception):
    """Something the event builder leaves to PyYAML's own constructor (anchors and aliases,
    explicit tags, merge keys, complex keys): kubectl never prints them."""


_STR_TAG = "tag:yaml.org,2002:str"
_resolver = yaml.resolver.Resolver()  # the safe loaders' implicit typing (YAML 1.1)
_constructor = yaml.constructor.SafeConstructor()


@lru_cache(maxsize=1 << 16)
def _plain(value: str) -> Any:
    """A plain scalar as the safe loader types it (``8080`` an int, ``true`` a bool, ``~`` None …)."""
    tag = _resolver.resolve(yaml.ScalarNode, value, (True, False))
    if tag == _STR_TAG:
        return value
    make = _constructor.yaml_constructors.get(tag)
    if make is None:  # the merge key, '='
        raise _Unusual(tag)
    return make(_constructor, yaml.ScalarNode(tag, value))


def _event_docs(text: str) -> list[Any]:
    """The documents of ``text`` built straight from libyaml's events (``yaml.parse``): the
    objects ``yaml.load_all(text, Loader=CSafeLoader)`` makes, without PyYAML's node graph and
    recursive constructor, which cost ~15x the parse on a kubectl dump.  Raises ``_Unusual``
    for what only the full constructor handles, and PyYAML's own errors for bad YAML."""
    docs: list[Any] = []
    stack: list[Any] = []  # open containers
    keys: list[Any] = []  # per open mapping: its pending key (_NOKEY: a key comes next)
    nokey = _NOKEY
    scalar_ev, mstart, mend = yaml.ScalarEvent, yaml.MappingStartEvent, yaml.MappingEndEvent
    sstart, send = yaml.SequenceStartEvent, yaml.SequenceEndEvent
    for ev in yaml.parse(text, Loader=_SafeLoader):
        cls = ev.__class__
        if cls is scalar_ev:
            if ev.anchor is not None or ev.tag is not None:
                raise _Unusual("tag or anchor")
            value = _plain(ev.value) if ev.implicit[0] else ev.value
        elif cls is mstart or cls is sstart:
            if ev.anchor is not None or ev.tag is not None:
                raise _Unusual("tag or anchor")
            if stack and type(stack[-1]) is dict and keys[-1] is nokey:
                raise _Unusual("complex key")
            c: Any = {} if cls is mstart else []
            stack.append(c)
            keys.append(nokey)
            continue
        elif cls is mend or cls is send:
            value = stack.pop()
            keys.pop()
        elif cls is yaml.AliasEvent:
            raise _Unusual("alias")
        else:  # stream and document start/end
            continue
        if not stack:
            docs.append(value)
            continue
        top = stack[-1]
        if type(top) is list:
            top.append(value)
        elif keys[-1] is nokey:
            if value.__hash__ is None:
                raise _Unusual("unhashable key")
            keys[-1] = value
        else:
            top[keys[-1]] = value
            keys[-1] = nokey
    return docs


class _NoKey:
    pass


_NOKEY = _NoKey()


def _yaml_docs(text: str, source: str) -> list[Any]:
    try:
        try:
            docs = _event_docs(text)
        except _Unusual:
            docs = list(yaml.load_all(text, Loader=_SafeLoader))
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        what = " ".join(x for x in (e.context, e.problem) if x) or "invalid YAML"
        if mark is not None and mark.index >= len(text.rstrip()) - 1:
            what += " (the file ends early: truncated?)"
        raise DumpError(source, f"invalid YAML: {what}",
                        mark.line + 1 if mark else None, mark.column + 1 if mark else None) from None
    except yaml.reader.ReaderError as e:  # a character YAML does not allow (a binary file)
        before = text[: e.position]
        line, col = before.count("\n") + 1, e.position - (before.rfind("\n") + 1) + 1
        raise DumpError(source, f"not YAML text: character 0x{e.character:02x} is not allowed "
                        "(is it a binary file?)", line, col) from None
    except yaml.YAMLError as e:
        raise DumpError(source, f"invalid YAML: {e}") from None
    except RecursionError:
        raise DumpError(source, "invalid YAML: nested too deeply") from None
    if not any(d is not None for d in docs):
        raise DumpError(source, "the input is empty", 1, 1)
    return docs


def read_inputs(paths: list[str], stdin: BinaryIO | None = None,
                ) -> list[Obj]:
    """Every object of every input, in order."""
    if paths.count("-") > 1:
        raise DumpError("<stdin>", "stdin ('-') can be given only once")
    out: list[Obj] = []
    collecting, size = gc.isenabled(), 0
    gc.disable()  # a dump makes millions of objects: cyclic GC passes over them would cost more than the parse
    try:
        for p in paths:
            source, text = read_source(p, stdin)
            size += len(text)
            out.extend(parse_text(text, source))
        if size > 1_000_000:
            # what a big dump made lives as long as the import and holds no cycles worth
            # collecting: out of the collector's sight, later passes (while the scenario is
            # built) do not walk it again
            gc.freeze()
    finally:
        if collecting:
            gc.enable()
    return out


# ----------------------------------------------------------------------------- positions


LOCATE_MAX = 16 * 1024 * 1024  # composing a whole document again costs ~1 s per MB


def locate(where: Where, path: PathT) -> tuple[int | None, int | None]:
    """Compose the object's document again and walk to ``path``; the deepest node found
    gives the position."""
    text, doc, line0 = where.text, where.doc, 0
    steps: list[str | int] = ([] if where.item is None else ["items", where.item]) + list(path)
    if len(text) > LOCATE_MAX:
        return _json_item_line(where) if where.json else (None, None)
    try:
        loader = _SafeLoader(text)
        try:
            node = None
            for _ in range(doc + 1):
                node = loader.get_node() if loader.check_node() else None
        finally:
            loader.dispose()
    except (yaml.YAMLError, RecursionError):
        return None, None
    if node is None:
        return None, None
    for step in steps:
        nxt = _child(node, step)
        if nxt is None:
            break
        node = nxt
    return line0 + node.start_mark.line + 1, node.start_mark.column + 1


def _json_item_line(where: Where) -> tuple[int | None, int | None]:
    """In a JSON dump too big to compose again, the line of the item itself: kubectl's
    ``-o json`` writes each List item's opening brace alone on a line, 8 spaces in."""
    if where.item is None or where.doc != 0:
        return None, None
    start = where.text.find('"items": [')
    if start < 0:
        return None, None
    for k, m in enumerate(re.compile(r"^ {8}\{$", re.M).finditer(where.text, start)):
        if k == where.item:
            return where.text.count("\n", 0, m.start()) + 1, 9
    return None, None


def _child(node, step):
    if isinstance(node, yaml.MappingNode) and isinstance(step, str):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == step:
                return v
    elif isinstance(node, yaml.SequenceNode) and isinstance(step, int):
        if 0 <= step < len(node.value):
            return node.value[step]
    return None
