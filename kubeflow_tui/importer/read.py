"""Read what ``kubectl get … -o yaml`` / ``-o json`` prints: a ``kind: List``, single
objects, several YAML documents or concatenated JSON values, from files or stdin.

Reading is fast, and the objects are always the ones PyYAML's safe loader makes:

- YAML that can mean only one thing (no plain scalar that YAML 1.1 and YAML 1.2 type apart:
  ``yes``, ``0777``, ``1e3``, timestamps …; no anchors, tags, document markers or Unicode line
  breaks; :data:`_AMBIGUOUS` finds them in one pass over the text) is parsed by ``yaml-rs``
  (Rust), four times faster than anything PyYAML has;
- the rest, and YAML ``yaml-rs`` refuses, by building objects straight from libyaml's events
  (``yaml.parse`` with PyYAML's C parser; the safe loader's typing of plain scalars), not through
  PyYAML's node graph and constructor, which cost fifteen times the parse; what kubectl never
  prints (anchors, tags, merge keys) goes to PyYAML's own loader.  Bad YAML is always reported by
  PyYAML, with its ``line:col``.

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
    docs = _json_docs(text, source) if _looks_json(text) else _yaml_docs(text, source)
    out: list[Obj] = []
    for d, doc in enumerate(docs):
        is_json = _looks_json(text)
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


# Where YAML 1.2 (yaml-rs) and PyYAML's YAML 1.1 could read a text apart (with :data:`_ODD_TEXT`,
# :data:`_FLOW` and the block scalar checks of :func:`_unambiguous`).  A node starts at a line's
# indentation, after `- `, `? `, `: `, a flow collection's `[`, `{` or `,`, or a quoted key's `:`;
# there: a plain scalar that either of them types (other than the decimal ints and floats both
# read alike), a timestamp, an anchor, alias, tag, reserved indicator, or a plain scalar starting
# with `:` or `?`; anywhere: a flow entry such as `[a:, b]`, a complex key (`{a}: b`), a document
# marker or directive (the documents of a stream).  Found by comparing the two parsers on short
# scalars over these characters in fourteen kinds of position (the property tests in
# tests/test_import_read.py go on doing so).  Strings that merely contain such text (quoted, or
# inside a longer plain scalar) only send the text to the slower path.
_END = r"(?=[ \t\r]*(?:$|#|[,\]}]|:(?:[ \t\r]|$)))"
_NODE = r"(?:^[ \t]*|[:?\-][ \t]+|[\[{,][ \t]*|[\"']:[ \t]*)"
_ALIKE = r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?" + _END
_NUMBER = (r"[-+]?(?:0[bB][01_]+|0[oO][0-7_]+|0[xX][0-9a-fA-F_]+"
           r"|[0-9_][0-9_]*(?::[0-9_]+)*(?:\.[0-9_]*)?(?:[eE][-+]?[0-9_]+)?"
           r"|\.[0-9_]+(?:[eE][-+]?[0-9_]+)?|\.?(?:inf|Inf|INF|nan|NaN|NAN))")
_WORD = r"(?:yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF|True|TRUE|False|FALSE|Null|NULL|~|<<|=)"
_AMBIGUOUS = re.compile(
    _NODE + r"(?:[&*!:%@`?]|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}|" + _WORD + _END
    + r"|(?!" + _ALIKE + r")" + _NUMBER + _END + r")"
    + r"|:[,\]}]|[\]}]:|^(?:---|\.\.\.)(?:[ \t\r]|$)|^%",
    re.M)
# YAML 1.1 breaks lines at the first three, YAML 1.2 does not; the parsers take tabs and a block
# scalar's lines of spaces apart (kubectl writes neither raw tabs nor trailing white space)
_ODD_TEXT = ("\u2028", "\u2029", "\x85", "\t", " \n", " \r")
# a block scalar's header (`|`, `>-`, `|+2` …) is a word of its own; a word that starts as one and
# is not (`|,`, `>x`) is something yaml-rs reads and PyYAML refuses
_BLOCK_HEADER = re.compile(r"^[|>][-+1-9]*$", re.M)
_NOT_HEADER = re.compile(r"^[|>](?![-+1-9]*$)", re.M)
_TOP_LEVEL_LINE = re.compile(r"\n[^ #\r\n]")
# A flow collection with something in it (kubectl prints only `{}` and `[]`): inside one, yaml-rs
# reads much that PyYAML refuses (`[>]`, `{[a], b}`, `{a: |}`, a key over two lines …): PyYAML
# reads such a text.  :func:`_flow_syntax` tells them from brackets inside strings.
_FLOW = re.compile(r"[\[{][^\]}]")
_HEADER_END = re.compile(r"[ \t][|>][-+]?\r?$")
_ESCAPE = re.compile(r"\\.")


def _flow_syntax(text: str) -> bool:
    """Whether ``text`` may hold a flow collection with something in it (``[a]``, ``{a: b}``).
    A ``[`` or ``{`` that kubectl prints is inside a string: a quoted one that starts before it
    on its line (``message: 'containers with unready status: [api]'``), or a block scalar (a
    ``last-applied-configuration: |`` annotation's JSON); any other counts as one."""
    in_block: dict[int, bool] = {}
    for m in _FLOW.finditer(text):
        at = m.start()
        start = text.rfind("\n", 0, at) + 1
        if _in_quotes(text[start:at]):
            continue
        if start not in in_block:
            in_block[start] = _in_block_scalar(text, start)
        if not in_block[start]:
            return True
    return False


def _in_quotes(before: str) -> bool:
    """``before`` (a line up to a bracket) opens a quoted scalar where a node starts (after the
    indentation, ``- `` or ``: ``) and leaves it open."""
    q = min((i for i in (before.find("'"), before.find('"')) if i >= 0), default=-1)
    if q < 0:
        return False
    lead = before[:q]
    if lead.strip(" ") not in ("", "-") and not lead.endswith((": ", "- ")):
        return False
    body = before[q + 1:]
    if before[q] == "'":
        return "'" not in body.replace("''", "")
    return '"' not in _ESCAPE.sub("", body)


def _in_block_scalar(text: str, start: int) -> bool:
    """The line at ``start`` is a block scalar's content: the nearest line above it that is less
    indented ends with a header (``|``, ``>-`` …; no indentation indicator), and the first line
    below that header is no more indented than this one."""
    end = text.find("\n", start)
    line = text[start:] if end < 0 else text[start:end]
    indent = len(line) - len(line.lstrip(" "))
    if indent == 0:
        return False
    end, first = start - 1, None
    for _ in range(1000):
        if end <= 0:
            return False
        s = text.rfind("\n", 0, end) + 1
        above = text[s:end]
        end = s - 1
        if not above.strip():
            continue
        lead = len(above) - len(above.lstrip(" "))
        if lead >= indent:
            first = lead
            continue
        return _HEADER_END.search(above) is not None and (first is None or first <= indent)
    return False


def _unambiguous(text: str) -> bool:
    """Whether ``yaml-rs`` reads ``text`` as PyYAML's safe loader does (see :data:`_AMBIGUOUS`).

    A scalar either could type is one word (a timestamp starts with one), so :data:`_AMBIGUOUS`
    looks at the distinct words of the text, each on a line of its own (as if a node started
    there): a kubectl dump of 42 MB has ~60,000 of them, checked in a tenth of the time the
    pattern takes over the text itself."""
    if any(b in text for b in _ODD_TEXT) or not _printable(text) or _flow_syntax(text):
        return False
    words = "\n".join(_words(text))
    if _AMBIGUOUS.search(words) is not None:
        return False
    if _NOT_HEADER.search(words) is not None:
        return False
    headers = set(_BLOCK_HEADER.findall(words))
    if headers:
        # Block scalars: where text follows a header on its line, PyYAML reads the text; and the
        # parsers end a block scalar that ends the text apart: the last one must be followed by a
        # top-level line.
        if text.lstrip().startswith(("|", ">")) or "\n|" in text or "\n>" in text:
            return False  # a header at a line's start: the document is a block scalar
        for h in headers:
            at = text.find(" " + h)
            while at >= 0:
                after = at + 1 + len(h)
                nxt = text[after:after + 1]
                if nxt in ("", "\n", "\r", " "):
                    if not text[text.rfind("\n", 0, at) + 1:at].strip(" "):
                        return False  # a header alone on its line: the document is a block scalar
                    end = text.find("\n", after)
                    rest = text[after:end if end >= 0 else len(text)].strip()
                    if rest and not rest.startswith("#"):
                        return False
                at = text.find(" " + h, at + 1)
        last = max(text.rfind(" " + h) for h in headers)
        if _TOP_LEVEL_LINE.search(text, last) is None:
            return False
    return True


def _words(text: str, chunk: int = 1 << 20) -> set[str]:
    """The distinct white-space separated words of ``text``, a megabyte at a time (the words of
    the whole text at once would be a list of millions of strings)."""
    out: set[str] = set()
    start, n = 0, len(text)
    while start < n:
        end = text.find("\n", start + chunk)
        end = n if end < 0 else end
        out.update(text[start:end].split())
        start = end
    return out


_yaml_rs: Any = None  # the module once imported; False where it cannot be


def _load_yaml_rs() -> Any:
    """``yaml_rs``, imported on first use only: the import reserves about 1 GB of address space
    (its allocator's arena), which a served session's limit (`serve --session-memory`) would
    not hold; the app's processes, which import this module, never load it."""
    global _yaml_rs
    if _yaml_rs is None:
        try:
            import yaml_rs

            _yaml_rs = yaml_rs
        except Exception:  # noqa: BLE001 - not installed, or it does not fit an address-space limit
            _yaml_rs = False
    return _yaml_rs or None


def _fast_docs(text: str) -> list[Any] | None:
    """The one document of ``text`` read by ``yaml-rs``, or None where that is not certain to
    give PyYAML's objects (or ``yaml-rs`` refuses the text: PyYAML then reads it or says why not)."""
    if not _unambiguous(text):
        return None
    yaml_rs = _load_yaml_rs()
    if yaml_rs is None:  # every YAML dump then takes libyaml's path
        return None
    try:
        doc = yaml_rs.loads(text, parse_datetime=False,
                            duplicate_key_policy=yaml_rs.DuplicateKeyPolicy.LastWins)
    except (yaml_rs.YAMLDecodeError, RecursionError):
        return None
    return [doc]


_PRINTABLE_ASCII = b"\t\n\r" + bytes(range(0x20, 0x7F))


def _printable(text: str) -> bool:
    """No character PyYAML refuses to read (its reader's ``NON_PRINTABLE``; a binary file):
    PyYAML names the first one by line and column."""
    if text.isascii():  # kubectl's output: a byte-level pass, ten times faster than the pattern
        return not text.encode("ascii").translate(None, _PRINTABLE_ASCII)
    return yaml.reader.Reader.NON_PRINTABLE.search(text) is None


def _yaml_docs(text: str, source: str) -> list[Any]:
    fast = _fast_docs(text)
    if fast is not None:
        docs = fast
        if not any(d is not None for d in docs):
            raise DumpError(source, "the input is empty", 1, 1)
        return docs
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
