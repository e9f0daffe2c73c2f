"""When kube-proxy syncs: its sync runner's schedule for a timeline whose events carry ``at``.

kube-proxy does not write rules when a Service or EndpointSlice changes; the change is
recorded and the proxier asks its sync runner for a run (``proxier.syncRunner.Run()``).  The
runner (``pkg/proxy/runner/bounded_frequency_runner.go``, built in the iptables and the
nftables proxier as ``NewBoundedFrequencyRunner("sync-runner", proxier.syncProxyRules,
minSyncPeriod, syncPeriod, proxyutil.FullSyncPeriod)``) guarantees:

* "At least ``minInterval`` must pass between the *completion* of one execution and the
  *start* of the next.  Calls to ``Run()`` during this cooldown period are coalesced and
  deferred until the interval expires": a change right after a sync waits, and every change
  that arrives meanwhile is written by the same sync (``syncProxyRules`` drains the change
  trackers in one go);
* the function runs at least once per ``maxInterval`` (``FullSyncPeriod``, one hour) even
  without changes; ``syncProxyRules`` makes a sync full when ``time.Since(lastFullSync) >
  FullSyncPeriod`` (partial_sync.py);
* ``syncPeriod`` (default 30 s) is the retry interval after a failed sync (and the canary
  check's period); failures are not modelled here.

Older releases built the runner from ``pkg/util/async`` with ``burstSyncs := 2``, which let
two syncs run back to back before the limit applied; this models the current one.

Defaults (``pkg/proxy/apis/config/v1alpha1/defaults.go``): ``MinSyncPeriod`` 1 s,
``SyncPeriod`` 30 s.  A sync is taken to last no time.  At t=0 the rules are in sync with the
API server and kube-proxy has been idle for at least ``minSyncPeriod``, so a first change
syncs at once; the hour of the periodic full sync counts from t=0.
"""

from __future__ import annotations

from dataclasses import dataclass

# kube-proxy's proxyutil.FullSyncPeriod: a partial sync turns full once the last full one is
# this old (kept here, stdlib-only, so that importing the timeline costs no scenario models)
FULL_SYNC_PERIOD = 3600.0  # seconds


@dataclass(frozen=True)
class SyncRun:
    """One run of kube-proxy's sync: when, which timeline events it writes, full or partial."""

    at: float
    events: tuple[int, ...]
    full: bool

    @property
    def periodic(self) -> bool:
        """The runner's hourly run without any change."""
        return not self.events


def schedule(times: list[float], forced_full: list[bool], min_sync_period: float,
             full_sync_period: float = FULL_SYNC_PERIOD) -> list[SyncRun]:
    """The syncs for events at ``times`` (non-decreasing); ``forced_full[i]``: event i is a
    ``full-resync``."""
    out: list[SyncRun] = []
    last: float | None = None  # when the last sync ran (None: idle since before t=0)
    last_full = 0.0
    i, n = 0, len(times)
    while i < n:
        earliest = times[i] if last is None else max(times[i], last + min_sync_period)
        idle_fire = (0.0 if last is None else last) + full_sync_period
        if idle_fire < earliest:
            # nothing ran for an hour: the runner's max-interval timer fires a (full) sync
            out.append(SyncRun(idle_fire, (), True))
            last = last_full = idle_fire
            continue
        batch = []
        while i < n and times[i] <= earliest:
            batch.append(i)
            i += 1
        full = any(forced_full[j] for j in batch) or earliest - last_full >= full_sync_period
        out.append(SyncRun(earliest, tuple(batch), full))
        last = earliest
        if full:
            last_full = earliest
    return out


def seconds(t: float) -> str:
    """``1.0`` as ``1``, ``0.25`` as ``0.25``: times as a learner writes them."""
    return f"{t:.3f}".rstrip("0").rstrip(".") or "0"
