"""kube-proxy's partial syncs (KEP-3453, MinimizeIPTablesRestore, GA in 1.28), iptables mode.

``syncProxyRules`` hands ``iptables-restore --noflush`` only part of its rules unless it
does a full sync: every sync rewrites the top-level chains (filter KUBE-SERVICES,
KUBE-EXTERNAL-SERVICES, KUBE-FORWARD, KUBE-NODEPORTS, KUBE-PROXY-FIREWALL, KUBE-FIREWALL;
nat KUBE-SERVICES, KUBE-NODEPORTS, KUBE-POSTROUTING, KUBE-MARK-MASQ) and the chains of the
Services whose Service or EndpointSlices changed since the last sync, and deletes the
per-service chains no longer used.  Every other chain is not in the restore input, so
``--noflush`` leaves it as it is in the kernel: a rule somebody deleted by hand in
KUBE-SEP-… of an untouched Service stays deleted.  The jump rules in the built-in chains
(``-A PREROUTING … -j KUBE-SERVICES``) are only ensured on a full sync.  A full sync
rewrites everything: the first sync, after a failed one, when kube-proxy notices its
canary chain gone, and at least every ``FULL_SYNC_PERIOD`` (one hour,
``proxyutil.FullSyncPeriod``; kubernetes#129128).  Syncs themselves run at most once per
``minSyncPeriod`` (kube-proxy's default 1 s), so a burst of changes lands in one sync.
"""

from __future__ import annotations

from ..kubeproxy import names as N
from ..kubeproxy.endpoints import endpoint_slices, service_port_endpoints, service_ports
from ..netfilter.rules import Chain, Ruleset, Table
from ..scenario.models import Scenario

from .sync_timing import FULL_SYNC_PERIOD  # noqa: F401 - where the sync's callers look for it

TOP_LEVEL = {
    "filter": {N.KUBE_SERVICES, N.KUBE_EXTERNAL_SERVICES, N.KUBE_FORWARD, N.KUBE_NODEPORTS,
               N.KUBE_PROXY_FIREWALL, N.KUBE_FIREWALL},
    "nat": {N.KUBE_SERVICES, N.KUBE_NODEPORTS, N.KUBE_POSTROUTING, N.KUBE_MARK_MASQ},
}


def changed_services(old: Scenario, new: Scenario) -> set[str]:
    """Keys of the Services whose object or EndpointSlices differ (added and deleted too):
    what the ServiceChangeTracker and EndpointsChangeTracker report."""
    so = {s.key: s for s in old.services}
    sn = {s.key: s for s in new.services}
    eo, en = endpoint_slices(old), endpoint_slices(new)
    return {k for k in so.keys() | sn.keys() if so.get(k) != sn.get(k) or eo.get(k) != en.get(k)}


def service_chains(sc: Scenario, keys: set[str]) -> set[str]:
    """Every per-service chain name the Services ``keys`` can have in ``sc``."""
    if not keys:
        return set()
    eps = service_port_endpoints(sc)
    out: set[str] = set()
    for info in service_ports(sc):
        if f"{info.name.namespace}/{info.name.name}" not in keys:
            continue
        name, proto = str(info.name), info.protocol
        for prefix in (N.SVC_PREFIX, N.SVL_PREFIX, N.EXT_PREFIX, N.FW_PREFIX):
            out.add(N.service_chain_name(prefix, name, proto))
        for ep in eps.get(info.name, []):
            out.add(N.endpoint_chain_name(name, proto, ep.address))
    return out


def partial(live: Ruleset, new: Ruleset, rewrite: set[str]) -> Ruleset:
    """The kernel's rules after a partial sync: ``new``'s chains where the sync writes them
    (top-level chains, the chains in ``rewrite``, chains that did not exist), ``live``'s
    everywhere else; stale per-service chains deleted."""
    out = Ruleset()
    for tname, ltable in live.tables.items():
        ntable = new.tables.get(tname)
        if ntable is None:
            out.tables[tname] = Table(tname, {c: _copy(ch) for c, ch in ltable.chains.items()})
            continue
        chains: dict[str, Chain] = {}
        for cname, lch in ltable.chains.items():
            if cname in ntable.chains:
                written = (not lch.builtin and (cname in TOP_LEVEL.get(tname, ()) or cname in rewrite))
                chains[cname] = _copy(ntable.chains[cname] if written else lch)
            elif not N.is_service_chain_name(cname):
                chains[cname] = _copy(lch)  # not kube-proxy's, or ensured only: left alone
        for cname, nch in ntable.chains.items():
            if cname not in chains:
                chains[cname] = _copy(nch)
        out.tables[tname] = Table(tname, chains)
    for tname, ntable in new.tables.items():
        if tname not in out.tables:
            out.tables[tname] = Table(tname, {c: _copy(ch) for c, ch in ntable.chains.items()})
    return out


def _copy(ch: Chain) -> Chain:
    return Chain(ch.name, ch.policy, list(ch.rules), ch.packets, ch.bytes)
