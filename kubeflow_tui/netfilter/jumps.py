"""The jumps between one table's chains, checked as the rules arrive.

When a table is committed the kernel refuses a loop of jumps reachable from a built-in
chain (ELOOP) and a NAT target reached from a hook that does not allow it.  A kube-proxy
dump has ~10^5 jumps; walking them all at COMMIT costs about as much as parsing them,
because by then every chain name and list is cold in memory.  So the parser hands each
jump over as it reads it, and :class:`JumpGraph` keeps two facts up to date:

* a *level* for each chain, every jump going to a higher level.  A jump that breaks
  this lifts the target and what it reaches; finding the jump's own chain on the way
  means a loop.  While the levels hold there is no loop at all.
* the built-in chains that reach each chain (*hooks*), pushed along the jumps as they
  arrive (a set can only grow, and has at most five members).

Anything unusual (a possible loop: it may sit where no built-in chain reaches it, which
the kernel allows; a flush or delete; a lift that runs long) makes the graph *inexact*,
and COMMIT checks the table itself with :func:`.parse._validate_reachable`.
"""

from __future__ import annotations

from .rules import Rule

__all__ = ["JumpGraph"]

_UNREACHED = 1 << 30  # the level of a chain nothing jumps to (yet), built-in ones aside


class JumpGraph:
    __slots__ = ("out", "level", "hooks", "restricted", "exact", "lifted")

    def __init__(self, builtins) -> None:
        self.out: dict[str, list[str]] = {}  # chain -> the user chains it jumps to
        self.level: dict[str, int] = {}
        self.hooks: dict[str, frozenset[str]] = {b: frozenset((b,)) for b in builtins}
        self.level.update(dict.fromkeys(builtins, 0))
        self.restricted: list[tuple[str, Rule]] = []  # rules with DNAT/SNAT/MASQUERADE
        self.exact = True
        self.lifted = 0  # chains lifted so far (past a budget, COMMIT is left to decide)

    def add(self, src: str, dst: str) -> None:
        """A rule of chain ``src`` jumps to the user chain ``dst``."""
        if not self.exact:
            return
        outs, level, hooks = self.out, self.level, self.hooks
        out = outs.get(src)
        if out is None:
            outs[src] = [dst]
        else:
            out.append(dst)
        above = level.get(src)
        if above is None:
            # nothing jumps here yet: start high, so that the jump that comes later
            # (KUBE-SERVICES -> KUBE-NODEPORTS is a dump's last) finds it above already
            above = level[src] = _UNREACHED
        above += 1
        h = hooks.get(src)
        at = level.get(dst)
        if at is None:  # the first jump to dst: it has no jumps or hooks of its own
            level[dst] = above
            if h is not None:
                hooks[dst] = h
            return
        if at < above:
            if dst not in outs and dst != src:  # nothing below dst to lift with it
                level[dst] = above
            else:
                self._lift(src, dst, above)
        if h is not None:
            have = hooks.get(dst)
            if have is not h and (have is None or not h <= have):
                self._spread(dst, h)

    def _lift(self, src: str, dst: str, to: int) -> None:
        level, out = self.level, self.out
        budget = 10_000 + 4 * len(level) - self.lifted
        work = [(dst, to)]
        while work:
            node, at = work.pop()
            if node == src or budget <= 0:
                self.exact = False  # a loop through src (or too much to follow here)
                return
            if level.get(node, 0) >= at:
                continue
            level[node] = at
            budget -= 1
            self.lifted += 1
            for nxt in out.get(node, ()):
                if level.get(nxt, 0) <= at:
                    work.append((nxt, at + 1))

    def _spread(self, node: str, h: frozenset[str]) -> None:
        hooks, out = self.hooks, self.out
        work = [(node, h)]
        while work:
            node, h = work.pop()
            have = hooks.get(node)
            if have is None:
                new = h
            elif h <= have:
                continue
            else:
                new = have | h
            hooks[node] = new
            work += [(nxt, new) for nxt in out.get(node, ())]

    def first_misplaced(self, allowed_hooks: dict[str, frozenset[str]]) -> Rule | None:
        """A rule whose target is reached from a hook it does not work in, if any."""
        hooks = self.hooks
        for name, rule in self.restricted:
            reached = hooks.get(name)
            if reached is not None and not reached <= allowed_hooks[rule.target]:
                return rule
        return None
