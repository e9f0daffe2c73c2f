"""Chain names exactly as kube-proxy's iptables mode computes them.

Upstream (``pkg/proxy/iptables/proxier.go``)::

    portProtoHash(servicePortName, protocol) =
        base32(sha256(servicePortName + protocol))[:16]

    KUBE-SVC-<hash>  the Cluster-policy chain of a service port
    KUBE-SVL-<hash>  the Local-policy chain (only with a Local traffic policy)
    KUBE-EXT-<hash>  the "external destinations" chain (NodePort, externalIPs, LB IPs)
    KUBE-FW-<hash>   the loadBalancerSourceRanges chain
    KUBE-SEP-<hash'> one chain per endpoint; hash' = sha256(name + protocol + "ip:port")

``servicePortName`` is ``"<namespace>/<name>:<portname>"`` (just ``"<namespace>/<name>"``
when the port has no name) and ``protocol`` is lower case (``"tcp"``, ``"udp"``).
"""

from __future__ import annotations

import base64
import hashlib

# Fixed chains kube-proxy owns.
KUBE_SERVICES = "KUBE-SERVICES"
KUBE_EXTERNAL_SERVICES = "KUBE-EXTERNAL-SERVICES"
KUBE_NODEPORTS = "KUBE-NODEPORTS"
KUBE_POSTROUTING = "KUBE-POSTROUTING"
KUBE_MARK_MASQ = "KUBE-MARK-MASQ"
KUBE_FORWARD = "KUBE-FORWARD"
KUBE_PROXY_FIREWALL = "KUBE-PROXY-FIREWALL"
KUBE_PROXY_CANARY = "KUBE-PROXY-CANARY"
# kubelet's chain that kube-proxy duplicates (anti-martian localnet rule).
KUBE_FIREWALL = "KUBE-FIREWALL"

SVC_PREFIX = "KUBE-SVC-"
SVL_PREFIX = "KUBE-SVL-"
FW_PREFIX = "KUBE-FW-"
EXT_PREFIX = "KUBE-EXT-"
SEP_PREFIX = "KUBE-SEP-"

_SHORT_PREFIXES = {
    "SVC": SVC_PREFIX,
    "SVL": SVL_PREFIX,
    "FW": FW_PREFIX,
    "EXT": EXT_PREFIX,
    "SEP": SEP_PREFIX,
}


def _hash16(text: str) -> str:
    digest = hashlib.sha256(text.encode()).digest()
    return base64.b32encode(digest).decode()[:16]


def port_proto_hash(svc_port_name: str, protocol: str) -> str:
    """The 16-character hash shared by a service port's SVC/SVL/EXT/FW chains."""
    return _hash16(svc_port_name + protocol.lower())


def _normalise_prefix(prefix: str) -> str:
    p = prefix.upper()
    if p in _SHORT_PREFIXES:
        return _SHORT_PREFIXES[p]
    if not p.endswith("-"):
        p += "-"
    if p not in _SHORT_PREFIXES.values():
        raise ValueError(f"unknown chain prefix {prefix!r} (use KUBE-SVC-, KUBE-SVL-, KUBE-EXT-, KUBE-FW-)")
    return p


def service_chain_name(prefix: str, svc_port_name: str, protocol: str) -> str:
    """``service_chain_name("KUBE-SVC-", "ns1/svc1:p80", "tcp") == "KUBE-SVC-XPGD46QRK7WJZT7O"``.

    ``prefix`` may be the full prefix (``"KUBE-EXT-"``) or its short form (``"EXT"``).
    """
    return _normalise_prefix(prefix) + port_proto_hash(svc_port_name, protocol)


def endpoint_chain_name(svc_port_name: str, protocol: str, endpoint: str) -> str:
    """``endpoint_chain_name("ns1/svc1:p80", "tcp", "10.180.0.1:80") == "KUBE-SEP-SXIVWICOYRO3J4NJ"``."""
    return SEP_PREFIX + _hash16(svc_port_name + protocol.lower() + endpoint)


def is_service_chain_name(chain: str) -> bool:
    """True for the per-service chains kube-proxy creates and garbage-collects."""
    return chain.startswith((SVC_PREFIX, SVL_PREFIX, SEP_PREFIX, FW_PREFIX, EXT_PREFIX))
