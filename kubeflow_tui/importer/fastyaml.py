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
import re
from functools import lru_cache
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
_NOT_KEY = frozenset("'\"?{[&*!-")
_NOT_PLAIN = frozenset("|>{['\"")
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
            if t[0] in _NOT_KEY or t[:2] == "- " or t == "-":
                if t[:2] == "- " or t == "-":
                    return out, i
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
                if rest == "" or ind[i] > n or ind[i] == -1:
                    i = self.skip(i, n)
                continue
            if rest == "":
                sub = want[key] if want is not None else None
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
            if rest[0] not in _NOT_PLAIN:
                out[key] = _plain(rest)
                j = i
                while ind[j] == -1:
                    j += 1
                if ind[j] > n or ind[j] == -3:  # a scalar folded over several lines
                    raise Fallback
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


class _Raw:
    """The text's lines, split only when a fallback needs them."""

    def __init__(self, text: str):
        self.text = text
        self._lines: list[str] | None = None

    def __getitem__(self, key):
        if self._lines is None:
            self._lines = self.text.split("\n")
        return self._lines[key]


def _item_data(lines: _Lines, raw: _Raw, start: int, end: int, seq_indent: int,
               wants: dict | None) -> Any:
    """One List item (lines ``start``..``end``, the first starting with ``- ``) as Python
    data; with ``wants`` ({kind: want tree}), only the parts its kind needs (other kinds:
    kind and metadata's name and namespace)."""
    cut = seq_indent + 2
    want = None
    if wants is not None:
        prefix = "kind: "
        kind = None
        first = lines.txt[start][2:]  # the first line is "- ..." at seq_indent
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
        first = lines.txt[start][2:]
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
    if "\n---" in text or text.startswith("---"):
        return None
    try:
        parsed = _Lines(text)
    except Fallback:
        return None
    ind, txt = parsed.ind, parsed.txt
    n = len(ind) - 1  # the sentinel
    lines = _Raw(text)
    top: dict[str, Any] = {}
    spans: list[tuple[int, int]] = []
    # the top-level lines, and the lines at the items' indentation
    tops = [i for i, k in enumerate(ind) if k == 0 or k == -3]
    tops[-1:] = []  # the sentinel
    seen_items = False
    for t, i in enumerate(tops):
        if ind[i] == -3:
            return None
        ln = txt[i]
        nxt = tops[t + 1] if t + 1 < len(tops) else n
        if ln.startswith("- "):
            continue  # items written at indentation 0: handled with "items:"
        if ln == "items:":
            if seen_items:
                return None
            seen_items = True
            j = i + 1
            while j < n and ind[j] == -1:
                j += 1
            si = 0 if ind[j] == 0 and txt[j][:2] == "- " else 2 if ind[j] == 2 else -1
            if si < 0 or (si == 2 and txt[j][:2] != "- "):
                return None
            # the items' first lines: "- " at indentation si, up to the next top key
            end_items = next((k for k in tops[t + 1:] if not txt[k].startswith("- ")), n) \
                if si == 0 else nxt
            starts = [k for k in range(j, end_items) if ind[k] == si]
            if any(txt[k][:2] != "- " for k in starts):
                return None
            bounds = starts + [end_items]
            for a, b in zip(bounds, bounds[1:]):
                while b > a + 1 and ind[b - 1] == -1:
                    b -= 1
                spans.append((a, b))
            continue
        if ln == "items: []":
            seen_items = True
            continue
        # another top-level key: its block (and itself) go to PyYAML
        end = nxt
        if any(txt[k].startswith("- ") for k in tops[t + 1:t + 2]) and ln != "items:":
            return None
        try:
            part = yaml.load("\n".join(" " * max(ind[k], 0) + txt[k] for k in range(i, end)),
                             Loader=_SafeLoader)
        except yaml.YAMLError:
            return None
        if not isinstance(part, dict):
            return None
        for k, v in part.items():
            if k in top:
                return None
            top[k] = v
    if not seen_items:
        return None
    si = 0 if not spans or ind[spans[0][0]] == 0 else 2
    out = []
    for a, b in spans:
        out.append((_item_data(parsed, lines, a, b, si, wants), a, b))
    top["items"] = None
    return top, out
