"""A fast reader for the YAML ``kubectl get -o yaml`` prints, falling back to PyYAML.

PyYAML builds Python objects in Python even with libyaml's C parser: about 1 s per
1,000 pods, so a 10,000-pod dump took a minute.  kubectl's YAML (go-yaml, through
sigs.k8s.io/yaml) is one narrow shape: block mappings with two-space indentation,
sequences written ``- `` at their key's indentation, plain or quoted one-line scalars,
``{}`` and ``[]`` for empty collections, ``|`` block scalars for long annotations.  This
module reads exactly that shape, one List item at a time; an item with anything else
(a folded multi-line scalar, a flow collection, an anchor, a tag, a comment, a tab) is
handed to PyYAML as it is, so the result is always what PyYAML would build.
"""

from __future__ import annotations

import json
from functools import lru_cache
import re
from typing import Any

import yaml

_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_resolver = yaml.resolver.Resolver()
_constructor = yaml.constructor.SafeConstructor()


class Fallback(Exception):
    """The item uses YAML this reader does not handle: let PyYAML read it."""


@lru_cache(maxsize=131072)
def _plain(s: str) -> Any:
    if s[0] in "?:,[]{}#&*!|>'\"%@`" or (s[0] == "-" and (len(s) == 1 or s[1] == " ")):
        raise Fallback
    if " #" in s or ": " in s or s.endswith(":"):
        raise Fallback
    tag = _resolver.resolve(yaml.ScalarNode, s, (True, False))
    if tag == "tag:yaml.org,2002:str":
        return s
    return _constructor.construct_object(yaml.ScalarNode(tag, s), deep=True)


def _quoted(s: str) -> str:
    """A one-line quoted scalar (the whole of ``s``)."""
    if s[0] == "'":
        if len(s) < 2 or s[-1] != "'":
            raise Fallback
        body = s[1:-1]
        if "'" in body.replace("''", ""):
            raise Fallback
        return body.replace("''", "'")
    if len(s) < 2 or s[-1] != '"':
        raise Fallback
    body = s[1:-1]
    if "\\" not in body:
        if '"' in body:
            raise Fallback
        return body
    try:
        out = json.loads(s)
    except ValueError:
        raise Fallback from None
    if not isinstance(out, str):
        raise Fallback
    return out


class _Lines:
    """Every line of the text as (indentation, content), worked out once by a regex;
    ``-1``: a blank line, ``-3``: a line this reader does not handle (a comment, a tab).
    A sentinel line at indentation 0 ends the text."""

    def __init__(self, text: str):
        pairs = _LINE.findall(text)
        self.ind: list[int] = [len(a) if b else -1 for a, b in pairs]
        self.txt: list[str] = [b for _, b in pairs]
        odd = []
        if "\t" in text or "\r" in text or " \n" in text:
            odd.append(_ODD_WS)
        if "#" in text:
            odd.append(_COMMENT)
        line, pos, count = 0, 0, 0
        for pattern in odd:
            line, pos = 0, 0
            for m in pattern.finditer(text):
                line += text.count("\n", pos, m.start())
                pos = m.start()
                self.ind[line] = -3
                count += 1
                if count > 1000:
                    raise Fallback
        self.ind.append(0)
        self.txt.append("\x00")


_LINE = re.compile(r"^( *)(.*)$", re.M)
_ODD_WS = re.compile(r"\t|[ \r]$", re.M)
_COMMENT = re.compile(r"^ *#", re.M)


class _Block:
    """One List item's lines in a ``_Lines``, parsed recursively.  ``want`` trees name
    the keys to read (``None``: all of it); the others are skipped by indentation."""

    def __init__(self, lines: _Lines):
        self.ind = lines.ind
        self.txt = lines.txt

    def _next(self, i: int) -> int:
        ind = self.ind
        while ind[i] == -1:
            i += 1
        return i

    def skip(self, i: int, n: int) -> int:
        """Past the block that belongs to a key at indentation ``n`` (deeper lines, its
        ``- `` items at ``n``, blank lines)."""
        ind, txt = self.ind, self.txt
        while True:
            k = ind[i]
            if k > n or k == -1 or (k == n and (txt[i][:2] == "- " or txt[i] == "-")):
                i += 1
            else:
                return i

    def node(self, i: int, n: int, want=None) -> tuple[Any, int]:
        t = self.txt[i]
        if t[:2] == "- " or t == "-":
            return self.seq(i, n, want)
        return self.mapping(i, n, want)

    def mapping(self, i: int, n: int, want=None) -> tuple[dict, int]:
        out: dict[str, Any] = {}
        ind, txt = self.ind, self.txt
        while True:
            while ind[i] == -1:
                i += 1
            if ind[i] != n:
                if ind[i] > n or ind[i] == -3:
                    raise Fallback
                return out, i
            t = txt[i]
            if t[:2] == "- " or t == "-":
                return out, i
            if t[0] in "'\"?{[&*!":
                raise Fallback
            k = t.find(": ")
            if k < 0:
                if t[-1] != ":":
                    raise Fallback
                key, rest = t[:-1], ""
            else:
                key, rest = t[:k], t[k + 2:].lstrip(" ")
            if key in out or not key:
                raise Fallback  # a duplicate key: PyYAML's answer (the last wins) it is
            i += 1
            if want is not None and key not in want:
                i = self.skip(i, n)
                continue
            sub = want[key] if want is not None else None
            if rest == "":
                j = i
                while ind[j] == -1:
                    j += 1
                if ind[j] > n:
                    out[key], i = self.node(j, ind[j], sub)
                elif ind[j] == n and (txt[j][:2] == "- " or txt[j] == "-"):
                    out[key], i = self.seq(j, n, sub)
                else:
                    out[key] = None
                continue
            out[key], i = self.scalar(rest, i, n)

    def scalar(self, rest: str, i: int, n: int) -> tuple[Any, int]:
        c = rest[0]
        if c in "|>":
            return self.block_scalar(rest, i, n)
        if rest == "{}":
            v: Any = {}
        elif rest == "[]":
            v = []
        elif c in "'\"":
            v = _quoted(rest)
        else:
            v = _plain(rest)
        ind = self.ind
        j = i
        while ind[j] == -1:
            j += 1
        if ind[j] > n or ind[j] == -3:  # a scalar folded over several lines
            raise Fallback
        return v, i

    def block_scalar(self, rest: str, i: int, n: int) -> tuple[str, int]:
        if rest not in ("|", "|-"):
            raise Fallback
        ind, txt = self.ind, self.txt
        start = i
        while ind[i] == -1 or ind[i] > n or ind[i] == -3:
            if ind[i] == -3:
                raise Fallback
            i += 1
        body = list(range(start, i))
        while body and ind[body[-1]] == -1:
            body.pop()  # trailing blank lines belong to the chomping
        if not body:
            return "", i
        indent = ind[body[0]]
        lines = []
        for j in body:
            if ind[j] == -1:
                lines.append("")
            elif ind[j] < indent:
                raise Fallback
            else:
                lines.append(" " * (ind[j] - indent) + txt[j])
        text = "\n".join(lines)
        return (text + "\n" if rest == "|" else text), i

    def seq(self, i: int, n: int, want=None) -> tuple[list, int]:
        out: list[Any] = []
        ind, txt = self.ind, self.txt
        while True:
            while ind[i] == -1:
                i += 1
            t = txt[i]
            if ind[i] != n or not (t[:2] == "- " or t == "-"):
                if ind[i] > n or ind[i] == -3:
                    raise Fallback
                return out, i
            rest = t[2:].lstrip(" ") if t != "-" else ""
            if rest == "":
                j = i + 1
                while ind[j] == -1:
                    j += 1
                if ind[j] > n:
                    v, i = self.node(j, ind[j], want)
                else:
                    v, i = None, i + 1
                out.append(v)
                continue
            sub = n + (len(t) - len(rest))
            if rest[:2] == "- " or rest == "-" or _is_key(rest):
                # "- key: value": the mapping (or nested sequence) starts on this line
                ind[i], txt[i] = sub, rest
                v, i = self.node(i, sub, want)
                out.append(v)
                continue
            v, i = self.scalar(rest, i + 1, n)
            out.append(v)


def _is_key(s: str) -> bool:
    if s[0] in "'\"{[&*!|>":
        if s[0] in "'\"" and (":" in s[1:]) and not (s.endswith(s[0])):
            raise Fallback  # a quoted key, or something else unusual
        return False
    return ": " in s or s.endswith(":")


# ----------------------------------------------------------------------------- a List


def _item_data(lines: _Lines, raw: list[str], start: int, end: int, seq_indent: int,
               wants: dict | None) -> Any:
    """One List item (lines ``start``..``end``, the first starting with ``- ``) as Python
    data; with ``wants`` ({kind: want tree}), only the parts its kind needs (other kinds:
    kind and metadata's name and namespace)."""
    cut = seq_indent + 2
    want = None
    if wants is not None:
        prefix = "kind: "
        kind = None
        first = raw[start][cut:]
        if first.startswith(prefix):
            kind = first[len(prefix):].strip()
        else:
            for j in range(start + 1, end):
                if lines.ind[j] == cut and lines.txt[j].startswith(prefix):
                    kind = lines.txt[j][len(prefix):].strip()
                    break
        want = wants.get(kind, _OTHER) if kind else None
    try:
        if lines.ind[start] == -3:
            raise Fallback
        first = raw[start][cut:]
        at = cut + len(first) - len(first.lstrip(" "))
        lines.ind[start], lines.txt[start] = at, first.lstrip(" ")
        b = _Block(lines)
        v, stop = b.node(start, at, want)
        if b._next(stop) < end:
            raise Fallback
        return v
    except (Fallback, RecursionError):
        return yaml.load("\n".join(ln[cut:] for ln in raw[start:end]), Loader=_SafeLoader)


_OTHER = {"apiVersion": None, "kind": None, "metadata": {"name": None, "namespace": None}}


def read_list(text: str, wants: dict | None = None) -> tuple[dict, list[tuple[Any, int, int]]] | None:
    """A kubectl ``kind: List`` as (its top-level keys but items, [(item, first line,
    end line)]) with 0-based line numbers; None when the text is not that shape (then
    PyYAML reads the whole of it)."""
    if "\n---" in text or text.startswith("---") or "\t" in text[:200]:
        return None
    lines = text.split("\n")
    top: dict[str, Any] = {}
    items: list[tuple[Any, int, int]] = []
    i, n = 0, len(lines)
    seen_items = False
    while i < n:
        ln = lines[i]
        if not ln.strip():
            i += 1
            continue
        if ln[0] == " " or ln.startswith("#") or ln.startswith("- "):
            return None
        if ln == "items:":
            if seen_items:
                return None
            seen_items = True
            i += 1
            if i < n and lines[i].startswith("- "):
                si = 0
            elif i < n and lines[i].startswith("  - "):
                si = 2
            else:
                return None
            prefix = " " * si + "- "
            while i < n and lines[i].startswith(prefix):
                start = i
                i += 1
                while i < n and (not lines[i].strip() or lines[i].startswith(" " * (si + 2))):
                    i += 1
                end = i
                while end > start + 1 and not lines[end - 1].strip():
                    end -= 1
                items.append((start, end))  # type: ignore[arg-type]
            top["items"] = items
            continue
        if ln == "items: []":
            seen_items = True
            top["items"] = []
            i += 1
            continue
        # another top-level key: its block (and itself) go to PyYAML
        start = i
        i += 1
        while i < n and (not lines[i].strip() or lines[i][0] == " " or lines[i].startswith("- ")):
            i += 1
        try:
            part = yaml.load("\n".join(lines[start:i]), Loader=_SafeLoader)
        except yaml.YAMLError:
            return None
        if not isinstance(part, dict):
            return None
        for k, v in part.items():
            if k in top:
                return None
            top[k] = v
    if not seen_items or top.get("items") is None:
        return None
    si = 0 if not items or lines[items[0][0]].startswith("- ") else 2  # type: ignore[index]
    try:
        parsed = _Lines(text)
    except Fallback:
        parsed = None
    out = []
    for start, end in items:  # type: ignore[misc]
        if parsed is None:
            data = yaml.load("\n".join(ln[si + 2:] for ln in lines[start:end]), Loader=_SafeLoader)
        else:
            data = _item_data(parsed, lines, start, end, si, wants)
        out.append((data, start, end))
    top["items"] = None
    return top, out
