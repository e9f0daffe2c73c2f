"""kube-proxy's iptables mode, reproduced: Services + EndpointSlices -> one ruleset per node.

Public API:

- ``generate_restore(scenario, node_name, config=None) -> str``: a self-contained
  ``iptables-restore`` input (``*filter``..``COMMIT``, ``*nat``..``COMMIT``) with the
  built-in chains, the jump rules kube-proxy ensures in them (first in each table), and
  everything kube-proxy's sync writes for that node.
- ``kube_proxy_restore(scenario, node_name, config=None) -> str``: only the buffer
  kube-proxy itself hands to ``iptables-restore --noflush`` (no built-in chains).
- ``builtin_jump_rules()``: the ensured jump rules per table and built-in chain.
- ``ProxyConfig``: kube-proxy flags that change the output (defaults = kube-proxy's).
- ``ensure_nfacct_counters(netns=None)``: create the nfacct objects the rules reference
  (needed before loading into a real kernel, as kube-proxy does at startup).
- nftables mode (``kubeflow_tui.kubeproxy.nftables``): ``nft_transaction(scenario, node)``
  (the transaction of kube-proxy's first sync, a ``netfilter.Transaction``),
  ``generate_nft(scenario, node)`` (its ``nft -f`` text), ``nft_service_chain``,
  ``nft_endpoint_chain``, ``NftProxyConfig``.
- names: ``service_chain_name(prefix, svc_port_name, protocol)``,
  ``endpoint_chain_name(svc_port_name, protocol, "ip:port")``, chain constants.
- endpoints: ``endpoint_slices(scenario)``, ``service_port_endpoints(scenario)``,
  ``service_ports(scenario)``, ``categorize_endpoints(...)`` and their dataclasses
  (see ``kubeflow_tui.kubeproxy.endpoints``).
"""

from .endpoints import (
    Categorized,
    Endpoint,
    EndpointPort,
    EndpointSlice,
    ServicePortInfo,
    ServicePortName,
    SliceEndpoint,
    categorize_endpoints,
    endpoint_slices,
    resolve_target_port,
    service_port_endpoints,
    service_ports,
)
from .generate import (
    NFACCT_COUNTERS,
    ProxyConfig,
    builtin_jump_rules,
    ensure_nfacct_counters,
    generate_restore,
    kube_proxy_restore,
    probability,
)
from .names import endpoint_chain_name, is_service_chain_name, port_proto_hash, service_chain_name
from .nftables import (
    NftProxyConfig,
    generate_nft,
    nft_endpoint_chain,
    nft_service_chain,
    nft_transaction,
)

__all__ = [
    "Categorized",
    "Endpoint",
    "EndpointPort",
    "EndpointSlice",
    "NFACCT_COUNTERS",
    "NftProxyConfig",
    "generate_nft",
    "nft_endpoint_chain",
    "nft_service_chain",
    "nft_transaction",
    "ProxyConfig",
    "ServicePortInfo",
    "ServicePortName",
    "SliceEndpoint",
    "builtin_jump_rules",
    "categorize_endpoints",
    "endpoint_chain_name",
    "endpoint_slices",
    "ensure_nfacct_counters",
    "generate_restore",
    "is_service_chain_name",
    "kube_proxy_restore",
    "port_proto_hash",
    "probability",
    "resolve_target_port",
    "service_chain_name",
    "service_port_endpoints",
    "service_ports",
]
