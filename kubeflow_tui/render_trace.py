"""Render a :class:`~kubeflow_tui.trace.Trace` as text for ``kubeflow-tui trace``.

Reads only the Trace: it never asks the engine anything and never re-derives a decision.
The layout, for each packet of the connection::

    ── packet 1: SYN  192.168.1.2:40000 → 10.96.0.1:8080 tcp ──
    client
      send         192.168.1.2:40000 → 10.96.0.1:8080 [SYN]
    link client → node-a
    node-a
      PREROUTING   nat:KUBE-SEP-…  #2  DNAT
                   -A KUBE-SEP-… -p tcp -m tcp -j DNAT --to-destination 10.244.1.5:8080
                   dst 10.96.0.1:8080 → 10.244.1.5:8080 (DNAT)

and then the conntrack table of each host as ``conntrack -L`` prints it.
"""

from __future__ import annotations

import io
from typing import Iterable

from rich.console import Console, RenderableType
from rich.text import Text

from kubeflow_tui.trace import PacketView, Step, Trace, error_text

#: Kinds whose ``why`` is printed by default (the rest only with ``verbose``).
EXPLAINED_KINDS = frozenset(
    {
        "dnat",
        "snat",
        "masquerade",
        "mark",
        "drop",
        "reject",
        "policy",
        "conntrack-new",
        "conntrack-hit",
        "conntrack-reverse",
        "conntrack-invalid",
        "deliver",
        "socket-error",
        "timeout",
        "route",
    }
)

#: How a header rewrite is labelled, by the kind of step that made it.
REWRITE_LABELS = {
    "dnat": "DNAT",
    "snat": "SNAT",
    "masquerade": "MASQUERADE",
    "mark": "MARK",
    "conntrack-hit": "conntrack",
    "conntrack-reverse": "conntrack reverses the NAT",
}

#: Styles of ``Trace.ending`` (and of the older ``outcome`` words).
OUTCOME_STYLES = {
    "delivered": "bold green",
    "rejected": "bold yellow",
    "refused": "bold yellow",
    "dropped": "bold red",
    "timed-out": "bold red",
    "timeout": "bold red",
    "unreachable": "bold red",
}

KIND_STYLES = {
    "dnat": "bold magenta",
    "snat": "bold magenta",
    "masquerade": "bold magenta",
    "mark": "magenta",
    "accept": "green",
    "deliver": "bold green",
    "drop": "bold red",
    "reject": "bold red",
    "timeout": "bold red",
    "socket-error": "bold yellow",
    "conntrack-invalid": "bold red",
    "conntrack-new": "cyan",
    "conntrack-hit": "cyan",
    "conntrack-reverse": "cyan",
    "conntrack-confirm": "cyan",
    "no-match": "dim",
}

INDENT = "    "
DETAIL = 8  # columns of indent for a step's details (wrapped lines keep it)


class _Indented:
    """Text wrapped to the console width minus an indent, every line indented and
    without trailing blanks (so a copied trace pastes cleanly)."""

    def __init__(self, text: Text, cols: int):
        self.text = text
        self.cols = cols

    def __rich_console__(self, console, options):
        width = max(10, options.max_width - self.cols)
        for line in self.text.wrap(console, width, overflow="fold"):
            line.rstrip()
            yield Text(" " * self.cols) + line


def _indented(text: str | Text, cols: int, style: str = "") -> _Indented:
    t = text if isinstance(text, Text) else Text(text, style=style)
    return _Indented(t, cols)


def _flags(p: PacketView) -> str:
    return f" [{','.join(p.flags)}]" if p.flags else ""


def packet_text(p: PacketView) -> str:
    """``192.168.1.2:40000 → 10.96.0.1:8080 tcp [SYN]``"""
    return f"{p.endpoint_text('src')} → {p.endpoint_text('dst')} {p.proto}{_flags(p)}"


def rewrites(before: PacketView | None, step: Step) -> list[str]:
    """The header rewrites a step made, e.g. ``dst 10.96.0.1:8080 → 10.244.1.5:8080 (DNAT)``."""
    if before is None or not step.changed:
        return []
    after = step.packet
    label = REWRITE_LABELS.get(step.kind, step.kind)
    out: list[str] = []
    changed = set(step.changed)
    for side, ip_field, port_field in (("src", "src", "sport"), ("dst", "dst", "dport")):
        if ip_field in changed or port_field in changed:
            out.append(
                f"{side} {before.endpoint_text(side)} → {after.endpoint_text(side)} ({label})"
            )
    if "mark" in changed:
        out.append(f"mark {before.mark:#x} → {after.mark:#x} ({label})")
    for other in sorted(changed - {"src", "dst", "sport", "dport", "mark"}):
        out.append(f"{other} {getattr(before, other, '?')} → {getattr(after, other, '?')} ({label})")
    return out


def _place(step: Step) -> str:
    if step.table and step.chain:
        return f"{step.table}:{step.chain}"
    return step.chain or step.table


def _verdict(step: Step) -> str:
    """What the step decided, in a few words."""
    k = step.kind
    if k in ("jump", "goto"):
        return f"{k} {step.target}".rstrip()
    if k == "policy":
        return f"policy {step.target or ''}".rstrip()
    if k in ("dnat", "snat", "masquerade", "mark", "accept", "drop", "reject", "return", "log"):
        return k.upper() if k != "return" else "RETURN"
    if k == "link" and step.link:
        return f"{step.link[0]} → {step.link[1]}"
    if k == "socket-error":
        return f"error {error_text(step.error)}"
    if k == "timeout" and step.error:
        return f"timeout {error_text(step.error)}"
    return k


def _statistic(step: Step) -> str:
    if step.probability is None:
        return ""
    text = f"statistic random p={step.probability:.11f}"
    if step.roll is not None:
        text += f", rolled {step.roll:.2f}: {'match' if step.kind != 'no-match' else 'no match'}"
    return text


def step_lines(step: Step, before: PacketView | None, *, verbose: bool = False) -> list[RenderableType]:
    """The lines for one step (without the host heading)."""
    if step.kind == "link":
        return [Text(f"link {step.link[0]} → {step.link[1]}" if step.link else "link", style="bold")]
    head = Text()
    head.append(f"{step.hook or '-':<11}", style="blue")
    place = _place(step)
    if place:
        head.append(f"  {place}", style="bold")
    if step.rule_index:
        head.append(f"  #{step.rule_index}", style="yellow")
    head.append(f"  {_verdict(step)}", style=KIND_STYLES.get(step.kind, ""))
    if step.kind == "send":
        head.append(f"  {packet_text(step.packet)}")
    lines: list[RenderableType] = [_indented(head, len(INDENT))]
    if step.kind == "socket-error" and (step.packet.proto == "icmp" or "RST" in step.packet.flags):
        lines.append(_indented(f"{step.packet_label}  {packet_text(step.packet)}", DETAIL, "bold"))
    if step.rule:
        lines.append(_indented(step.rule, DETAIL, "dim" if step.kind == "no-match" else ""))
    stat = _statistic(step)
    if stat:
        lines.append(_indented(stat, DETAIL, "yellow"))
    for rw in rewrites(before, step):
        lines.append(_indented(rw, DETAIL, "bold magenta"))
    if step.kind.startswith("conntrack") and 0 <= step.touched < len(step.conntrack):
        lines.append(_indented(step.conntrack[step.touched].line, DETAIL, "cyan"))
    if step.why and (verbose or step.kind in EXPLAINED_KINDS):
        lines.append(_indented(step.why, DETAIL, "italic"))
    return lines


def _packets(trace: Trace) -> list[list[Step]]:
    groups: dict[int, list[Step]] = {}
    for s in trace.steps:
        groups.setdefault(s.packet_no, []).append(s)
    return [groups[k] for k in sorted(groups)]


def header_lines(trace: Trace) -> list[Text]:
    def pair(t: Text, label: str, value: str, style: str = "bold") -> None:
        t.append(f"{'   ' if t.plain else ''}{label} ", style="dim")
        t.append(value, style=style)

    t = Text()
    pair(t, "scenario", trace.scenario)
    pair(t, "flow", trace.flow)
    pair(t, "ending", trace.ending.replace("-", " "), OUTCOME_STYLES.get(trace.ending, "bold"))
    t2 = Text()
    if trace.error:
        pair(t2, "client's socket", error_text(trace.error), OUTCOME_STYLES.get(trace.ending, "bold"))
        out_error = [t2]
        t2 = Text()
    else:
        out_error = []
    pair(t2, "endpoint", trace.endpoint or "-")
    pair(t2, "seed", "-" if trace.seed is None else str(trace.seed))
    out = [t, *out_error, t2]
    if trace.server_saw or trace.client_saw:
        t3 = Text()
        if trace.server_saw:
            pair(t3, "server saw", trace.server_saw)
        if trace.client_saw:
            pair(t3, "client saw", trace.client_saw)
        out.append(t3)
    if trace.summary:
        out.append(Text(trace.summary, style="italic"))
    if trace.meta.get("timeline"):
        out.append(Text(trace.meta["timeline"], style="italic"))  # a flow played at a time
    return out


def conntrack_lines(trace: Trace) -> list[RenderableType]:
    """Each host's conntrack table after the last step on that host."""
    last: dict[str, Step] = {}
    for s in trace.steps:
        last[s.host] = s
    order = list(trace.hosts) + [h for h in last if h not in trace.hosts]
    out: list[RenderableType] = [Text("conntrack entries at the end", style="bold underline")]
    any_entry = False
    for host in order:
        step = last.get(host)
        if step is None or not step.conntrack:
            continue
        any_entry = True
        out.append(Text(host, style="bold"))
        for c in step.conntrack:
            out.append(_indented(c.line, len(INDENT), "cyan"))
    if not any_entry:
        out.append(_indented("(none: no host tracked this connection)", len(INDENT), "dim"))
    return out


def iter_lines(trace: Trace, *, verbose: bool = False) -> Iterable[RenderableType]:
    yield from header_lines(trace)
    for group in _packets(trace):
        first = group[0]
        label = first.packet_label or ("reply" if first.packet.direction == "reply" else "")
        title = f"── packet {first.packet_no + 1}"
        if label:
            title += f": {label}"
        yield Text("")
        yield Text(f"{title}  {packet_text(first.packet)} ──", style="bold reverse")
        host = None
        before: PacketView | None = None
        for step in group:
            # A statistic rule that did not match stays: the roll is the lesson.
            if step.kind == "no-match" and step.probability is None and not verbose:
                before = step.packet
                continue
            if step.kind != "link" and step.host != host:
                host = step.host
                yield Text(host, style="bold underline")
            elif step.kind == "link":
                host = None
            yield from step_lines(step, before, verbose=verbose)
            before = step.packet
    yield Text("")
    yield from conntrack_lines(trace)


def print_trace(trace: Trace, console: Console, *, verbose: bool = False) -> None:
    for line in iter_lines(trace, verbose=verbose):
        if isinstance(line, Text):
            line.overflow = "fold"
        console.print(line)


def render_trace_text(trace: Trace, *, width: int = 100, verbose: bool = False) -> str:
    """The same output as plain text (no colour), e.g. for the README or a test."""
    buf = io.StringIO()
    console = Console(file=buf, width=width, no_color=True, color_system=None, highlight=False)
    print_trace(trace, console, verbose=verbose)
    return "".join(line.rstrip() + "\n" for line in buf.getvalue().splitlines())
