"""Playing a timed timeline: API changes at their ``at``, kube-proxy's syncs when its runner
runs them (sync_timing.py), flows in between against the rules of the last sync.

A mixin for ClusterSim (uses ``self.scenario``, ``self.now``, ``self.topology``,
``self.sync_rules``, ``self.last_sync``, ``self.last_cleanup``).  A timeline without ``at`` is
not played here: ``ClusterSim.apply_event`` syncs after each event at once, as before.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType

from .sync_timing import SyncRun, schedule, seconds


@dataclass
class TimelineEntry:
    """One line of a played timeline: an event reaching the API server, or a sync."""

    at: float
    kind: str  # "event" or "sync"
    text: str
    event: int | None = None  # timeline index (kind event)
    run: SyncRun | None = None  # kind sync
    services: tuple[str, ...] = ()  # kind sync: the Services whose chains it rewrote
    diffs: dict[str, str] = field(default_factory=dict)  # kind sync: per node, rules diff
    cleanup: dict[str, list[str]] = field(default_factory=dict)  # conntrack lines it deleted


def describe_event(ev) -> str:
    a = ev.action
    if a == "scale":
        return f"kubectl scale deployment {ev.deployment} --replicas {ev.replicas}"
    if a == "delete-pod":
        return f"pod {ev.pod} deleted"
    if a == "delete-service":
        return f"Service {ev.service} deleted"
    if a == "set-selector":
        sel = ",".join(f"{k}={v}" for k, v in ev.selector.items())
        return f"Service {ev.service}'s selector set to {sel}"
    if a == "add-pod":
        return f"pod {ev.newPod.name} created ({ev.newPod.ip} on {ev.newPod.node})"
    return "kube-proxy asked for a full resync (a restart)"


def describe_sync(run: SyncRun, services: tuple[str, ...]) -> str:
    what = "full" if run.full else "partial: " + (", ".join(services) if services else "top-level chains only")
    if run.periodic:
        return f"kube-proxy synced at t={seconds(run.at)} ({what}; its hourly run, no change waiting)"
    n = len(run.events)
    changes = "1 change" if n == 1 else f"{n} changes coalesced"
    return f"kube-proxy synced at t={seconds(run.at)} ({what}); {changes}"


class TimelineMixin:
    """``advance_to(t)``: plays the timed timeline up to time ``t`` (seconds since it started)."""

    # read-only defaults for a subclass that builds itself without _timeline_init (DumpSim)
    _timed = False
    played: tuple = ()
    gone_pods = MappingProxyType({})

    def _timeline_init(self) -> None:
        #: the timeline time the cluster is at (seconds since it started)
        self.clock = 0.0
        self._timeline_start = self.now
        self._timeline = list(self.scenario.timeline)
        self._timed = bool(self._timeline) and all(ev.at is not None for ev in self._timeline)
        self._runs: list[SyncRun] = []
        if self._timed:
            kp = self.scenario.kubeProxy
            self._runs = schedule([ev.at for ev in self._timeline],
                                  [ev.action == "full-resync" for ev in self._timeline], kp.minSyncPeriod)
        self._next_event = 0
        self._next_run = 0
        #: what has happened so far, in time order
        self.played: list[TimelineEntry] = []
        #: pods that events removed, by name: their IPs (rules may still point at them)
        self.gone_pods: dict[str, str] = {}

    @property
    def timed(self) -> bool:
        """Whether the scenario's timeline carries times (``at`` on every event)."""
        return self._timed

    def last_sync_entry(self) -> TimelineEntry | None:
        for e in reversed(self.played):
            if e.kind == "sync":
                return e
        return None

    def pending_changes(self) -> list[int]:
        """Events that reached the API server but no sync has written yet."""
        written = {i for e in self.played if e.kind == "sync" for i in e.run.events}
        return [e.event for e in self.played if e.kind == "event" and e.event not in written]

    def next_sync_at(self) -> float | None:
        return self._runs[self._next_run].at if self._next_run < len(self._runs) else None

    def rules_as_of(self) -> str:
        """One sentence: whose rules a packet meets now."""
        last = self.last_sync_entry()
        base = (f"At t={seconds(self.clock)} the rules are those of kube-proxy's sync at "
                f"t={seconds(last.at)}" if last else
                f"At t={seconds(self.clock)} the rules are those from before the timeline")
        waiting = self.pending_changes()
        if not waiting:
            return base + "; nothing is waiting"
        nxt = self.next_sync_at()
        n = len(waiting)
        return (base + f"; {n} change{'s' * (n != 1)} not written yet (next sync at t={seconds(nxt)}, "
                f"minSyncPeriod {seconds(self.scenario.kubeProxy.minSyncPeriod)} s after the last)")

    def rules_as_of_short(self) -> str:
        """The same in one short line (the app's narration at 80 columns)."""
        last = self.last_sync_entry()
        out = f"t={seconds(self.clock)}: rules of " + (f"kube-proxy's sync at t={seconds(last.at)}" if last
                                                       else "before the timeline")
        n = len(self.pending_changes())
        return out + (f"; {n} change{'s' * (n != 1)} wait for t={seconds(self.next_sync_at())}" if n else "")

    def advance_to(self, t: float) -> list[TimelineEntry]:
        """Play events and syncs up to and including time ``t``; returns what happened."""
        from .events import apply_event
        from .topology import build_topology

        if not self._timed:
            raise ValueError("the timeline has no times (at); its events are applied one by one")
        if t < self.clock:
            raise ValueError(f"the cluster is at t={seconds(self.clock)} already; time does not go "
                             f"back to t={seconds(t)}")
        new: list[TimelineEntry] = []
        while True:
            ev_t = self._timeline[self._next_event].at if self._next_event < len(self._timeline) else None
            run = self._runs[self._next_run] if self._next_run < len(self._runs) else None
            # an event at the same time as a sync comes first: the sync writes it
            if ev_t is not None and ev_t <= t and (run is None or ev_t <= run.at):
                i = self._next_event
                ev = self._timeline[i]
                self.now = max(self.now, self._timeline_start + ev.at)
                before = {p.name: p.ip for p in self.scenario.pods}
                self.scenario = apply_event(self.scenario, ev)
                after = {p.name for p in self.scenario.pods}
                self.gone_pods.update({n: ip for n, ip in before.items() if n not in after})
                self.topology = build_topology(self.scenario)
                new.append(TimelineEntry(ev.at, "event", f"t={seconds(ev.at)}: {describe_event(ev)}", event=i))
                self._next_event += 1
            elif run is not None and run.at <= t:
                self.now = max(self.now, self._timeline_start + run.at)
                diffs = self.sync_rules(full=run.full)
                services = self.last_sync[1]
                new.append(TimelineEntry(run.at, "sync", describe_sync(run, services), run=run,
                                         services=services, diffs=diffs, cleanup=dict(self.last_cleanup)))
                self._next_run += 1
            else:
                break
        self.clock = t
        self.now = max(self.now, self._timeline_start + t)
        self.played.extend(new)
        return new

    def play_all(self) -> list[TimelineEntry]:
        """The whole timeline, up to its last sync."""
        end = max([ev.at for ev in self._timeline] + [r.at for r in self._runs] + [self.clock])
        return self.advance_to(end)
