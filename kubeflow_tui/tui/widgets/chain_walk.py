"""The chain walk of the current host: hooks and chains entered, rules tried.

Shows the steps of the current visit (same host, same packet) up to the current step:
the rule that matched is highlighted, rules that did not match are dimmed, a statistic
roll is shown next to its rule.  Everything comes from the Trace.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text

from kubeflow_tui.tui.widgets.base import StepScroll

if TYPE_CHECKING:
    from kubeflow_tui.trace import Step

EVENT_TEXT = {
    "send": "sends the packet",
    "link": "arrives over the link",
    "route": "routing decision",
    "conntrack-new": "conntrack: new entry (the nat table will be consulted)",
    "conntrack-hit": "conntrack: known connection (nat table skipped)",
    "conntrack-reverse": "conntrack: reply, NAT undone",
    "conntrack-confirm": "conntrack: entry confirmed",
    "conntrack-invalid": "conntrack: INVALID",
    "deliver": "delivered to the socket",
    "timeout": "no answer: the sender gives up",
}


def visit(steps: tuple[Step, ...], index: int) -> list[Step]:
    """The steps of the current visit: same host and packet, contiguous, up to index."""
    cur = steps[index]
    start = index
    while start > 0:
        prev = steps[start - 1]
        if prev.host != cur.host or prev.packet_no != cur.packet_no:
            break
        start -= 1
    return list(steps[start : index + 1])


def is_nft(s: Step) -> bool:
    """A step in an nftables table ("ip kube-proxy"; iptables' tables are one word: "nat")."""
    return " " in s.table


class ChainWalk(StepScroll):
    COMPONENT_CLASSES = {
        "chain--hook",
        "chain--chain",
        "chain--current",
        "chain--matched",
        "chain--nomatch",
        "chain--event",
        "chain--roll",
    }
    HIGHLIGHT_CLASSES = ("chain--current",)
    DEFAULT_CSS = """
    ChainWalk > .chain--hook { color: $secondary; text-style: bold; }
    ChainWalk > .chain--chain { color: $primary; text-style: bold; }
    ChainWalk > .chain--current { background: $accent 40%; text-style: bold; }
    ChainWalk > .chain--matched { color: $success; }
    ChainWalk > .chain--nomatch { color: $text-disabled; }
    ChainWalk > .chain--event { color: $text-muted; }
    ChainWalk > .chain--roll { color: $warning; }
    """

    def build(self) -> Text:
        t = Text(no_wrap=False, overflow="fold")
        if self.trace is None or not self.trace.steps:
            t.append(self.PENDING_TEXT if self.pending else "No trace.")
            return t
        steps = visit(self.trace.steps, self.index)
        cur = self.trace.steps[self.index]
        label = f" ({cur.packet_label})" if cur.packet_label else ""
        t.append(f"{cur.host}{label}\n", self.cstyle("chain--hook"))
        hook = chain = None
        last_rule: tuple[str, str, int] | None = None
        for s in steps:
            is_cur = s.index == self.index
            if s.hook and s.hook != hook:
                hook = s.hook
                chain = None
                t.append(f"▸ {hook}\n", self.cstyle("chain--hook"))
            if s.chain and (s.table, s.chain) != chain:
                chain = (s.table, s.chain)
                if is_nft(s):  # as nft monitor trace names it: family, table, chain
                    t.append(f"  {s.table} {s.chain}\n", self.cstyle("chain--chain"))
                    if s.base_chain:
                        t.append(f"    {s.base_chain}\n", self.cstyle("chain--event"))
                else:
                    t.append(f"  {s.table}:{s.chain}\n", self.cstyle("chain--chain"))
            if s.rule and last_rule == (s.chain, s.rule, s.rule_index) and s.kind not in ("rule-match", "no-match"):
                # the target's action of the rule just shown: no need to repeat it
                line = self._action(s)
                t.append("      ")
                t.append(line, self.cstyle("chain--current") if is_cur else self.cstyle("chain--event"))
                t.append("\n")
                continue
            if s.rule:
                last_rule = (s.chain, s.rule, s.rule_index)
                nft = is_nft(s)
                num = f"{s.rule_index:>3} " if s.rule_index and not nft else "    "
                t.append(num)
                if is_cur:
                    style = self.cstyle("chain--current")
                elif s.kind == "no-match":
                    style = self.cstyle("chain--nomatch")
                else:
                    style = self.cstyle("chain--matched")
                t.append(s.rule, style)
                if nft and s.rule_index:  # as nft -a lists it
                    t.append(f" # handle {s.rule_index}", self.cstyle("chain--event"))
                mark = "  ✗ no match" if s.kind == "no-match" else "  ✓ match" if s.kind == "rule-match" else ""
                if mark:
                    t.append(mark, self.cstyle("chain--nomatch") if s.kind == "no-match" else self.cstyle("chain--event"))
                t.append("\n")
                if s.lookup:
                    self._lookup(t, s)
                if s.roll is not None:
                    p = f"{s.probability:.11f}" if s.probability is not None else "?"
                    verdict = "match" if s.kind != "no-match" else "no match"
                    t.append(f"      statistic random p={p}, rolled {s.roll:.2f}: {verdict}\n", self.cstyle("chain--roll"))
                if s.kind not in ("rule-match", "no-match"):
                    t.append("      ")
                    t.append(self._action(s), self.cstyle("chain--event"))
                    t.append("\n")
                continue
            last_rule = None
            t.append("  ")
            t.append(self._action(s), self.cstyle("chain--current") if is_cur else self.cstyle("chain--event"))
            t.append("\n")
        t.rstrip()
        return t

    def _lookup(self, t: Text, s: Step) -> None:
        """The map or set an nftables rule looked the packet up in, the key, the element."""
        if s.lookup.startswith("numgen"):
            t.append(f"      {s.lookup} gave {s.key}\n", self.cstyle("chain--roll"))
        else:
            t.append(f"      key {s.key} looked up in {s.lookup}\n", self.cstyle("chain--roll"))
        if s.element:
            t.append(f"      element {s.element}\n", self.cstyle("chain--matched"))
        elif not s.lookup.startswith("numgen"):
            t.append(f"      not in {s.lookup}\n", self.cstyle("chain--nomatch"))

    @staticmethod
    def _action(s: Step) -> str:
        p = s.packet
        k = s.kind
        if k in ("jump", "goto"):
            return f"→ {k} {s.target}"
        if k == "return":
            return f"← return from {s.chain}" if s.chain else "← return"
        if k == "policy":
            if is_nft(s):
                return f"policy {s.target or 'accept'} (end of the base chain {s.chain})"
            return f"policy {s.target or 'ACCEPT'} ({s.table}:{s.chain})"
        nft = is_nft(s)  # nft's verdicts and statements are lower case
        if k == "dnat":
            return f"{'dnat' if nft else 'DNAT'} → {p.endpoint_text('dst')}"
        if k in ("snat", "masquerade"):
            return f"{k if nft else k.upper()} → {p.endpoint_text('src')}"
        if k == "mark":
            return f"{'meta mark' if nft else 'MARK'} → {hex(p.mark)}"
        if k in ("accept", "drop", "reject", "log"):
            return k if nft else k.upper()
        if k == "link" and s.link:
            return f"{s.link[0]} ⟶ {s.link[1]}: {EVENT_TEXT['link']}"
        return EVENT_TEXT.get(k, k)

    def after_redraw(self) -> None:
        # keep the current step in view: it is the last line drawn
        self.scroll_end(animate=False)

    def current_rule(self) -> str:
        """The highlighted text (the current rule or event)."""
        hi = self.highlighted()
        return hi[-1] if hi else ""
