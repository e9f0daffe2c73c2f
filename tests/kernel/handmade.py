"""A one-node cluster with rules written by hand in kube-proxy's style, for the referee's
self-test (the generator and the simulator are not needed to check the harness).

node-a 192.168.1.10 (pods 10.244.1.0/24): pod ``client`` 10.244.1.2 and pod ``web-1``
10.244.1.5 (tcp 8080, udp 5353); Service default/web 10.96.0.1:8080/TCP (NodePort 30080)
and default/dns 10.96.0.10:53/UDP; external client ``laptop`` 192.168.1.2.
"""

from __future__ import annotations

from kubeflow_tui.scenario.models import Scenario

SVC_WEB = "KUBE-SVC-CDGGSHYLG3RE2FKL"  # default/web:http + tcp
EXT_WEB = "KUBE-EXT-CDGGSHYLG3RE2FKL"
SEP_WEB = "KUBE-SEP-AFGSLHOD2HFNCBX4"  # ... + 10.244.1.5:8080
SVC_DNS = "KUBE-SVC-2MBSHUE5GJKPO227"  # default/dns:dns + udp
SEP_DNS = "KUBE-SEP-VHTL55OPWU24HBWQ"  # ... + 10.244.1.5:5353

SCENARIO = Scenario.model_validate(
    {
        "name": "kernel-selftest",
        "cluster": {"systemServices": False,
                    "nodes": [{"name": "node-a", "ip": "192.168.1.10", "podCIDR": "10.244.1.0/24"}]},
        "pods": [
            {"name": "client", "node": "node-a", "ip": "10.244.1.2"},
            {
                "name": "web-1",
                "node": "node-a",
                "ip": "10.244.1.5",
                "labels": {"app": "web"},
                "ports": [
                    {"name": "http", "containerPort": 8080},
                    {"name": "dns", "containerPort": 5353, "protocol": "UDP"},
                ],
            },
        ],
        "services": [
            {"name": "web", "type": "NodePort", "clusterIP": "10.96.0.1", "selector": {"app": "web"},
             "ports": [{"name": "http", "port": 8080, "targetPort": 8080, "nodePort": 30080}]},
            {"name": "dns", "clusterIP": "10.96.0.10", "selector": {"app": "web"},
             "ports": [{"name": "dns", "port": 53, "targetPort": 5353, "protocol": "UDP"}]},
        ],
        "clients": [
            {"name": "laptop", "kind": "external", "ip": "192.168.1.2"},
            {"name": "node-a-shell", "kind": "node", "node": "node-a"},
        ],
        "flows": [
            {"name": "pod-to-clusterip", "from": "client", "to": "10.96.0.1:8080"},
            {"name": "pod-to-dns", "from": "client", "to": "10.96.0.10:53", "protocol": "UDP",
             "sourcePort": 40001},
            {"name": "external-to-nodeport", "from": "laptop", "to": "192.168.1.10:30080"},
            {"name": "node-to-clusterip", "from": "node-a-shell", "to": "10.96.0.1:8080",
             "sourcePort": 40002},
            {"name": "pod-to-closed-port", "from": "client", "to": "10.244.1.5:9999"},
        ],
    }
)

RULES = f"""\
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:KUBE-FORWARD - [0:0]
-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD
-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP
-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT
-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-NODEPORTS - [0:0]
:KUBE-POSTROUTING - [0:0]
:KUBE-MARK-MASQ - [0:0]
:{SVC_WEB} - [0:0]
:{EXT_WEB} - [0:0]
:{SEP_WEB} - [0:0]
:{SVC_DNS} - [0:0]
:{SEP_DNS} - [0:0]
-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING
-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000
-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully
-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000
-A KUBE-NODEPORTS -m comment --comment default/web:http -m tcp -p tcp --dport 30080 -j {EXT_WEB}
-A KUBE-SERVICES -m comment --comment "default/web:http cluster IP" -m tcp -p tcp -d 10.96.0.1 --dport 8080 -j {SVC_WEB}
-A KUBE-SERVICES -m comment --comment "default/dns:dns cluster IP" -m udp -p udp -d 10.96.0.10 --dport 53 -j {SVC_DNS}
-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS
-A {EXT_WEB} -m comment --comment "masquerade traffic for default/web:http external destinations" -j KUBE-MARK-MASQ
-A {EXT_WEB} -j {SVC_WEB}
-A {SVC_WEB} -m comment --comment "default/web:http cluster IP" -m tcp -p tcp -d 10.96.0.1 --dport 8080 ! -s 10.244.0.0/16 -j KUBE-MARK-MASQ
-A {SVC_WEB} -m comment --comment "default/web:http -> 10.244.1.5:8080" -j {SEP_WEB}
-A {SEP_WEB} -m comment --comment default/web:http -s 10.244.1.5 -j KUBE-MARK-MASQ
-A {SEP_WEB} -m comment --comment default/web:http -m tcp -p tcp -j DNAT --to-destination 10.244.1.5:8080
-A {SVC_DNS} -m comment --comment "default/dns:dns cluster IP" -m udp -p udp -d 10.96.0.10 --dport 53 ! -s 10.244.0.0/16 -j KUBE-MARK-MASQ
-A {SVC_DNS} -m comment --comment "default/dns:dns -> 10.244.1.5:5353" -j {SEP_DNS}
-A {SEP_DNS} -m comment --comment default/dns:dns -s 10.244.1.5 -j KUBE-MARK-MASQ
-A {SEP_DNS} -m comment --comment default/dns:dns -m udp -p udp -j DNAT --to-destination 10.244.1.5:5353
COMMIT
"""


def rules(scenario: Scenario, node: str) -> str:
    """The same signature as ``kubeflow_tui.kubeproxy.generate_restore``."""
    return RULES
