"""Record what the real tools print on this project's own rules: the shell's goldens.

Record once, compare always, re-recordable::

    sudo .venv/bin/python -m tests.kernel.record_shell            # every session
    sudo .venv/bin/python -m tests.kernel.record_shell SESSION    # one of SESSIONS

For each session the scenario's cluster is built in network namespaces (``netns.py``, the
rules ``kubeflow_tui.kubeproxy.generate_restore`` writes, without the referee's TRACE
rules), the pods answer HTTP the way the simulated servers do (``HTTP_PY``: status line,
two headers, ``saw <client ip:port> from <pod>``), and the session's command lines run in
order, each in the namespace of its host, under ``bash -c``:

* ``pipes``: stdout and stderr captured apart (the exact streams, ``2>/dev/null`` etc.);
* ``tty``: both on one pseudo-terminal, as a learner sees them (curl shows no progress
  meter on a terminal, and its verbose lines interleave with the body).

The result goes to ``tests/golden/shell/real/<session>.json`` with the tool versions; the
``test_shell.py`` golden test replays the same lines in the simulated shell and compares.
Only addresses inside the namespaces this script creates are ever contacted.  Parts that
differ between two runs of the real tools (ephemeral source ports, conntrack timers counting
down) are masked by ``normalise`` on both sides.
"""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import sys
import termios
from pathlib import Path

from kubeflow_tui.kubeproxy import generate_restore
from kubeflow_tui.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "golden" / "shell" / "real"

#: the simulated servers' answer, over HTTP (what ``kubeflow_tui.shell.net_cmd.run_curl`` models)
HTTP_PY = r"""
import json, socket, sys, threading
pod, ports = sys.argv[1], json.loads(sys.argv[2])
def conn(c, a):
    try:
        f = c.makefile("rb")
        while True:
            line = f.readline()
            if not line:
                break
            if line.startswith(b"GET") or line.startswith(b"HEAD"):
                head = line.startswith(b"HEAD")
                while f.readline() not in (b"\r\n", b"\n", b""):
                    pass
                body = ("saw %s:%d from %s\n" % (a[0], a[1], pod)).encode()
                hdr = ("HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n"
                       "Content-Length: %d\r\n\r\n" % len(body)).encode()
                c.sendall(hdr + (b"" if head else body))
    except OSError:
        pass
    finally:
        c.close()
def tcp(s):
    while True:
        c, a = s.accept()
        threading.Thread(target=conn, args=(c, a), daemon=True).start()
def udp(s):
    while True:
        data, a = s.recvfrom(65535)
        s.sendto(("saw %s:%d from %s\n" % (a[0], a[1], pod)).encode(), a)
for proto, port in ports:
    if proto == "tcp":
        s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("0.0.0.0", port)); s.listen(4096)  # as a Go server: somaxconn
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("0.0.0.0", port))
    threading.Thread(target=tcp if proto == "tcp" else udp, args=(s,), daemon=True).start()
print("ready", flush=True)
sys.stdin.read()
"""

#: cluster DNS as CoreDNS's kubernetes plugin answers it (what ``net_cmd.run_dig`` models):
#: authoritative, no recursion, TTL 30, NXDOMAIN with the zone's SOA, EDNS udp 1232, no
#: cookie; argv: the listen address, then JSON {name: ip}, JSON SRV records, and JSON
#: {"records": {name: ip}, "ttl": n}: the upstream resolver's answers, which CoreDNS's
#: forward plugin relays for names outside the zone (a recursive resolver's: ra, no aa;
#: NXDOMAIN with the root zone's SOA; TTLs capped at 30 by CoreDNS's cache 30)
DNS_PY = r"""
import json, socket, struct, sys
listen, records = sys.argv[1], json.loads(sys.argv[2])
srv = json.loads(sys.argv[3]) if len(sys.argv) > 3 else {}  # {name: [[port, target], ...]}
up = json.loads(sys.argv[4]) if len(sys.argv) > 4 else {"records": {}, "ttl": 300}
ROOT_SOA = ("a.root-servers.net", "nstld.verisign-grs.com", (2026120300, 1800, 900, 604800, 86400))
ptr = {".".join(reversed(ip.split("."))) + ".in-addr.arpa": n for n, ip in records.items()}
ZONE = "cluster.local"
QNAME = [""]
def name_bytes(n):
    # compressed against the question's name (offset 12), as CoreDNS answers
    labels = [p for p in n.rstrip(".").split(".") if p]
    q = [p for p in QNAME[0].split(".") if p]
    for k in range(len(labels)):
        suffix = labels[k:]
        if len(suffix) <= len(q) and [x.lower() for x in q[len(q) - len(suffix):]] == [x.lower() for x in suffix]:
            off = 12 + sum(len(x) + 1 for x in q[:len(q) - len(suffix)])
            return b"".join(bytes([len(p)]) + p.encode() for p in labels[:k]) + struct.pack("!H", 0xC000 | off)
    return b"".join(bytes([len(p)]) + p.encode() for p in labels) + b"\0"
def read_name(d, i):
    parts = []
    while d[i]:
        parts.append(d[i + 1:i + 1 + d[i]].decode()); i += 1 + d[i]
    return ".".join(parts), i + 1
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((listen, 53))
print("ready", flush=True)
while True:
    d, a = s.recvfrom(4096)
    qid, flags, qd, an, ns, ar = struct.unpack("!6H", d[:12])
    qname, i = read_name(d, 12)
    qtype, qclass = struct.unpack("!HH", d[i:i + 4])
    question = d[12:i + 4]
    QNAME[0] = qname
    q = qname.lower()
    answers, auth, extra = [], [], []
    opt = b"\0" + struct.pack("!HHIH", 41, 1232, 0, 0) if ar else b""
    if not (q == ZONE or q.endswith("." + ZONE) or (qtype == 12 and q in ptr)):
        # forwarded: the upstream's answer as CoreDNS relays it (a reverse name that is no
        # Service's falls through to it too: kubeadm's "fallthrough in-addr.arpa ip6.arpa")
        if qtype == 1 and q in up["records"]:
            answers.append(name_bytes(q) + struct.pack("!HHIH", 1, 1, min(up["ttl"], 30), 4)
                           + socket.inet_aton(up["records"][q]))
        else:
            soa = name_bytes(ROOT_SOA[0]) + name_bytes(ROOT_SOA[1]) + struct.pack("!5I", *ROOT_SOA[2])
            auth.append(b"\0" + struct.pack("!HHIH", 6, 1, 30, len(soa)) + soa)
        rcode = 0 if q in up["records"] else 3
        hdr = struct.pack("!6H", qid, 0x8080 | (flags & 0x0100) | rcode, 1, len(answers), len(auth),
                          1 if ar else 0)
        s.sendto(hdr + question + b"".join(answers) + b"".join(auth) + opt, a)
        continue
    if qtype == 33 and q in srv:
        # CoreDNS: priority 0, weight 100 shared by the records, the target uncompressed
        # (miekg/dns packs an SRV target as a plain domain-name), its A in ADDITIONAL
        for port, target in srv[q]:
            t = b"".join(bytes([len(x)]) + x.encode() for x in target.split(".")) + b"\0"
            rd = struct.pack("!HHH", 0, 100 // len(srv[q]), port) + t
            answers.append(name_bytes(q) + struct.pack("!HHIH", 33, 1, 30, len(rd)) + rd)
            extra.append(name_bytes(target) + struct.pack("!HHIH", 1, 1, 30, 4) + socket.inet_aton(records[target]))
    elif qtype == 1 and q in records:
        answers.append(name_bytes(q) + struct.pack("!HHIH", 1, 1, 30, 4) + socket.inet_aton(records[q]))
    elif qtype == 12 and q in ptr:
        rd = name_bytes(ptr[q])
        answers.append(name_bytes(q) + struct.pack("!HHIH", 12, 1, 30, len(rd)) + rd)
    rcode = 0 if answers or (q in records or q in ptr or q in srv) else 3
    if not answers:
        soa = name_bytes("ns.dns." + ZONE) + name_bytes("hostmaster." + ZONE) + struct.pack("!5I", 1700000000, 7200, 1800, 86400, 30)
        auth.append(name_bytes(ZONE) + struct.pack("!HHIH", 6, 1, 30, len(soa)) + soa)
    hdr = struct.pack("!6H", qid, 0x8400 | (flags & 0x0100) | rcode, 1, len(answers), len(auth),
                      len(extra) + (1 if ar else 0))
    s.sendto(hdr + question + b"".join(answers) + b"".join(auth) + b"".join(extra) + opt, a)
"""

#: session -> (scenario, [(host, command line, mode)]); the lines run in this order on
#: one cluster, so a line sees what the lines before it did (rules added, connections made)
SESSIONS: dict[str, tuple[str, list[tuple]]] = {
    "clusterip-iptables-errors": ("clusterip", [
        ("node-a", "iptables -t nat -L 2>/dev/null | wc -l", "pipes"),
        ("node-a", "iptables -t nat -L --bogus 2>&1 | wc -l", "pipes"),
        ("node-a", "iptables -t nat -L --bogus >/dev/null 2>&1", "pipes"),
        ("node-a", "iptables --bogus", "pipes"),
        ("node-a", "iptables -L --bogus", "pipes"),
        ("node-a", "iptables -Lnv --bogus", "pipes"),
        ("node-a", "iptables -A INPUT -p tcp --bogus 80 -j ACCEPT", "pipes"),
        ("node-a", "iptables -A INPUT -j DNAT --to-destination 10.244.1.5", "pipes"),
        ("node-a", "iptables -I INPUT 1 -j DNAT --to-destination 10.244.1.5", "pipes"),
        ("node-a", "iptables -C INPUT -j DNAT --to-destination 10.244.1.5", "pipes"),
        ("node-a", "iptables -t nat -A PREROUTING -j MASQUERADE", "pipes"),
        ("node-a", "iptables -t nat -I PREROUTING -j MASQUERADE", "pipes"),
        ("node-a", "iptables -t nat -A KUBE-SERVICES -j MASQUERADE", "pipes"),
        ("node-a", "iptables -t nat -A OUTPUT -j SNAT --to-source 192.168.1.10", "pipes"),
        ("node-a", "iptables -t nat -A POSTROUTING -j DNAT --to-destination 10.244.1.5", "pipes"),
        ("node-a", "iptables -t nat -A PREROUTING -j DROP", "pipes"),
        ("node-a", "iptables -t mangle -A INPUT -j REJECT", "pipes"),
        ("node-a", "iptables -t raw -A PREROUTING -j REJECT", "pipes"),
        ("node-a", "iptables -N FOO", "pipes"),
        ("node-a", "iptables -A FOO -j DNAT --to-destination 10.244.1.5", "pipes"),
        ("node-a", "iptables -t nat -N BAR", "pipes"),
        ("node-a", "iptables -t nat -A BAR -j MASQUERADE", "pipes"),
        ("node-a", "iptables -t nat -A PREROUTING -j BAR", "pipes"),
        ("node-a", "iptables -t nat -A POSTROUTING -j BAR", "pipes"),
        ("node-a", "iptables -t nat -A POSTROUTING -j KUBE-SERVICES", "pipes"),
        ("node-a", "iptables -N L1", "pipes"),
        ("node-a", "iptables -N L2", "pipes"),
        ("node-a", "iptables -A L1 -j L2", "pipes"),
        ("node-a", "iptables -A L2 -j L1", "pipes"),
        ("node-a", "iptables -A INPUT -j L1", "pipes"),
        ("node-a", "iptables -R INPUT 1 -j DNAT --to-destination 10.244.1.5", "pipes"),
        ("node-a", "iptables -S INPUT", "pipes"),
        ("node-a", "iptables -t nat -S POSTROUTING", "pipes"),
    ]),
    "clusterip-tools": ("clusterip", [
        ("node-a", "ip rule", "pipes"),
        ("node-a", "conntrack -S", "pipes"),
        ("node-a", "conntrack -L -t 100", "pipes"),
        ("node-a", "conntrack -L -o xml", "pipes"),
        ("client-b", "curl http://10.96.0.1:8080/", "tty"),
        ("client-b", "curl -v http://10.96.0.1:8080/", "tty"),
        ("client-b", "curl -sv http://10.96.0.1:8080/ 2>/dev/null", "pipes"),
        ("client-b", "curl -sI http://10.96.0.1:8080/", "pipes"),
        ("client-b", "curl -v http://10.244.1.5:9999/", "tty"),
        ("client-b", "curl http://10.244.1.5:9999/", "tty"),
        ("client-b", "wget -qO- http://10.96.0.1:8080/", "pipes"),
        ("node-b", "conntrack -F", "pipes"),
        ("client-b", "curl -s http://10.96.0.1:8080/", "pipes"),
        ("node-b", "conntrack -L -o xml", "pipes"),
        ("node-b", "conntrack -L -o extended", "pipes"),
        ("node-b", "conntrack -L -o id", "pipes"),
        ("node-a", "ip -br link", "pipes"),
        ("node-a", "ip route show table local", "pipes"),
        ("node-a", "ip -s link show lo", "pipes"),
        ("node-a", "sysctl net.ipv4.ip_forward", "pipes"),
        ("node-a", "sysctl net.ipv4.conf.all.route_localnet net.ipv4.ip_forward", "pipes"),
        ("node-a", "ss -tln", "tty"),
        ("web-1", "ss -tln", "tty"),
        ("web-1", "ss -uln", "tty"),
        ("web-1", "ss -tlnp | grep -c LISTEN", "pipes"),
        ("node-a", "sysctl -n net.ipv4.ip_forward", "pipes"),
        ("node-a", "sysctl net.foo", "pipes"),
        ("web-1", "sysctl net.ipv4.ip_forward", "pipes"),
        ("client-b", "wget -qO- http://10.244.1.5:9999/", "pipes"),
        ("client-b", "curl -s http://10.96.0.1:8080/ >/dev/null; ss -tan", "tty"),
        ("client-b", "ss -tn", "tty"),
        ("client-b", "nc -z 10.96.0.1 8080", "pipes"),
        ("client-b", "nc -zv 10.96.0.1 8080", "pipes"),
        ("client-b", "nc -z 10.244.1.5 9999", "pipes"),
        ("client-b", "nc -zv 10.244.1.5 9999", "pipes"),
        ("client-b", "nc -zv 10.244.1.5 8079-8081", "pipes"),
        ("client-b", "nc -z 10.244.1.5", "pipes"),
    ]),
    # counters as the kernel moves them: one curl from a pod on node-b to the ClusterIP
    "clusterip-counters": ("clusterip", [
        ("node-b", "iptables -t nat -L KUBE-SERVICES -n -v", "pipes"),
        ("client-b", "curl -s http://10.96.0.1:8080/", "pipes"),
        ("node-b", "iptables -t nat -L KUBE-SERVICES -n -v", "pipes"),
        ("node-b", "iptables -t nat -L -n -v -x", "pipes"),
        ("node-b", "iptables -L -n -v -x", "pipes"),
        ("node-a", "iptables -L FORWARD -n -v -x", "pipes"),
        ("node-a", "iptables -t nat -L PREROUTING -n -v -x", "pipes"),
        ("node-b", "iptables -t nat -S -v", "pipes"),
        ("node-b", "iptables-save -c -t filter | grep -v '^#'", "pipes"),
        ("node-b", "iptables -t nat -Z KUBE-SERVICES", "pipes"),
        ("node-b", "iptables -t nat -L KUBE-SERVICES -n -v", "pipes"),
        ("node-b", "iptables -t nat -L POSTROUTING -n -v -Z", "pipes"),
        ("node-b", "iptables -t nat -L POSTROUTING -n -v", "pipes"),
    ]),
}


#: a line run in the real namespace while another command makes traffic, and the line the
#: simulated shell runs instead (there tcpdump shows the last connection that crossed the host)
_TCPDUMP = ("(timeout 5 tcpdump {opts} -l >/tmp/kft-td.out 2>/tmp/kft-td.err &); sleep 1; "
            "ip netns exec {{ns:client-b}} curl -s http://10.96.0.1:8080/ >/dev/null; sleep 1; "
            "cat /tmp/kft-td.out; cat /tmp/kft-td.err >&2; rm -f /tmp/kft-td.out /tmp/kft-td.err")
SESSIONS["clusterip-tcpdump"] = ("clusterip", [
    ("node-b", _TCPDUMP.format(opts="-i eth0 -nn -c 10 tcp"), "pipes",
     "kubectl exec client-b -- curl -s http://10.96.0.1:8080/ >/dev/null; tcpdump -i eth0 -nn -c 10 tcp"),
    ("node-b", _TCPDUMP.format(opts="-i any -nn -c 6 -e tcp"), "pipes",
     "kubectl exec client-b -- curl -s http://10.96.0.1:8080/ >/dev/null; tcpdump -i any -nn -c 6 -e tcp"),
    ("node-b", _TCPDUMP.format(opts="-i any -n -c 4 tcp port 8080 and host 10.244.1.5"), "pipes",
     "kubectl exec client-b -- curl -s http://10.96.0.1:8080/ >/dev/null; tcpdump -i any -n -c 4 tcp port 8080 and host 10.244.1.5"),
])


SESSIONS["clusterip-dig"] = ("clusterip", [
    ("client-b", "dig web.default.svc.cluster.local", "pipes"),
    ("client-b", "dig +short web.default.svc.cluster.local", "pipes"),
    ("client-b", "dig +noall +answer web.default.svc.cluster.local", "pipes"),
    ("client-b", "dig nope.default.svc.cluster.local", "pipes"),
    ("client-b", "dig -x 10.96.0.1", "pipes"),
    ("client-b", "dig -x 10.96.0.99", "pipes"),
    ("client-b", "dig +short -x 10.96.0.1", "pipes"),
    ("client-b", "dig +search web", "pipes"),
    ("client-b", "dig +short +search web", "pipes"),
    ("client-b", "nslookup web", "pipes"),
    ("client-b", "nslookup web.default.svc.cluster.local", "pipes"),
    ("client-b", "nslookup web.default.svc.cluster.local.", "pipes"),
    ("client-b", "nslookup nope", "pipes"),
    ("client-b", "nslookup 10.96.0.1", "pipes"),
    ("client-b", "nslookup 10.96.0.99", "pipes"),
    ("client-b", "nslookup nope.default.svc.cluster.local", "pipes"),
    ("client-b", "host web", "pipes"),
    ("client-b", "host web.default", "pipes"),
    ("client-b", "host nope", "pipes"),
    ("client-b", "host 10.96.0.1", "pipes"),
    ("client-b", "host 10.96.0.99", "pipes"),
    ("client-b", "dig SRV _http._tcp.web.default.svc.cluster.local", "pipes"),
    ("client-b", "dig +short SRV _http._tcp.web.default.svc.cluster.local", "pipes"),
    ("client-b", "dig SRV web.default.svc.cluster.local", "pipes"),
    ("client-b", "dig SRV _nope._tcp.web.default.svc.cluster.local", "pipes"),
    ("client-b", "dig +noall +answer +additional -t SRV _http._tcp.web.default.svc.cluster.local", "pipes"),
])
#: names outside cluster.local: CoreDNS forwards them to the node network's resolver
#: (scenario cluster.upstreamDNS) and relays its answer
SESSIONS["system-services-dig"] = ("system-services", [
    ("app", "dig example.com", "pipes"),
    ("app", "dig +short example.com", "pipes"),
    ("app", "dig +noall +answer example.com", "pipes"),
    ("app", "dig nope.example", "pipes"),
    ("app", "dig www.example.org", "pipes"),
    ("app", "dig AAAA example.com", "pipes"),
    ("app", "dig +short nope.example", "pipes"),
    ("app", "dig +search example.com", "pipes"),
    ("app", "dig web.default.svc.cluster.local", "pipes"),
    ("app", "nslookup example.com", "pipes"),
    ("app", "nslookup nope.example", "pipes"),
    ("app", "host example.com", "pipes"),
    ("app", "host nope.example", "pipes"),
])
DNS_SESSIONS = {"clusterip-dig", "system-services-dig"}

#: ping through the datapath: pod and node addresses answer; a ClusterIP does not in
#: iptables mode (no rule DNATs ICMP and the address is nobody's, so the echo request
#: follows the default route to the router, which discards it); in nftables mode
#: kube-proxy's cluster-ips-check chain rejects it
_PING = [
    ("client-b", "ping -c 1 10.244.1.5", "pipes"),
    ("client-b", "ping -c 2 -i 0.2 -W 1 10.96.0.1", "pipes"),
    ("node-b", "ping -c 1 192.168.1.10", "pipes"),
    ("node-b", "ping -c 1 -W 1 10.96.0.1", "pipes"),
    ("client-b", "ping -c 1 -W 1 10.244.1.99", "pipes"),
    ("client-b", "ping -c 1 -q 10.244.1.5", "pipes"),
    ("node-b", "ping -c 1 -W 1 10.96.0.99", "pipes"),
    ("client-b", "ping -c 1 -W 1 10.96.0.99", "pipes"),
    ("node-b", "ping -c 2 -i 0.2 -W 1 10.96.0.1 >/dev/null", "pipes"),
    ("client-a", "ping -c 3 -i 0.2 10.244.1.5", "pipes"),
    ("node-a", "ping -c 1 10.244.1.5", "pipes"),
    ("node-a", "ping -c 1 192.168.1.10", "pipes"),
    ("client-a", "ping -c 1 192.168.1.11 | grep ttl", "pipes"),
    ("client-b", "ping -c 1 -W 1 10.96.0.1 | tail -2", "pipes"),
    ("client-b", "ping -c 1", "pipes"),
    ("client-b", "ping -c 0 10.244.1.5", "pipes"),
    ("client-b", "ping -c x 10.244.1.5", "pipes"),
    ("client-b", "ping -z 10.244.1.5", "pipes"),
    ("node-b", "conntrack -L -p icmp -s 10.244.2.7 -d 10.96.0.1", "pipes"),
    ("node-b", "conntrack -L -p icmp -s 10.244.2.7 -d 10.244.1.5", "pipes"),
    ("node-a", "conntrack -L -p icmp -s 192.168.1.11", "pipes"),
    ("node-a", "conntrack -L -p icmp -s 10.244.1.7 -d 10.244.1.5", "pipes"),  # (-L lists in hash order: one entry)
]
SESSIONS["clusterip-ping"] = ("clusterip", list(_PING))
SESSIONS["clusterip-ping-nft"] = ("clusterip", list(_PING))
#: traceroute (Debian traceroute 2.1): UDP probes to port 33434 and up, TTL 1, 2, ...; each
#: node that routes a probe whose TTL runs out answers with ICMP time exceeded; numeric
#: only (-n), so no name is ever looked up outside the namespaces
_TRACEROUTE = [
    ("client-b", "traceroute -n -q 1 -w 1 -m 5 10.244.1.5", "pipes"),
    ("client-b", "traceroute -n -w 1 -m 5 10.244.1.5", "pipes"),
    ("client-b", "traceroute -n -q 1 -w 1 -m 4 10.96.0.1", "pipes"),
    ("node-b", "traceroute -n -q 1 -w 1 -m 3 10.244.1.5", "pipes"),
    ("node-b", "traceroute -n -q 1 -w 1 -m 3 192.168.1.10", "pipes"),
    ("client-a", "traceroute -n -q 1 -w 1 -m 3 10.244.1.5", "pipes"),
    ("client-b", "traceroute -n -q 1 -w 1 -m 3 10.244.1.99", "pipes"),
    ("client-b", "traceroute -n -Y 10.244.1.5", "pipes"),
    ("client-b", "traceroute -q 11 10.244.1.5", "pipes"),
    ("client-b", "traceroute -m x 10.244.1.5", "pipes"),
]
#: ping's and traceroute's command lines as each tool reads them (glibc getopt; traceroute
#: 2.1.2's own parser): options after the host, clusters, long options, and their errors
SESSIONS["clusterip-options"] = ("clusterip", [
    ("client-b", "ping 10.244.1.5 -c 1 -q", "pipes"),
    ("client-b", "ping -nqc1 10.244.1.5", "pipes"),
    ("client-b", "ping -c", "pipes"),
    ("client-b", "ping -zc1 10.244.1.5", "pipes"),
    ("client-b", "ping 10.244.1.5 -z", "pipes"),
    ("client-b", "ping --bogus 10.244.1.5", "pipes"),
    ("client-b", "traceroute -n 10.244.1.5 -m 2", "pipes"),
    ("client-b", "traceroute -nm", "pipes"),
    ("client-b", "traceroute -n -Yq 1 10.244.1.5", "pipes"),
    ("client-b", "traceroute 10.244.1.5 -Y", "pipes"),
    ("client-b", "traceroute -m5x 10.244.1.5", "pipes"),
    ("client-b", "traceroute -n", "pipes"),
    ("client-b", "traceroute --max-hops 2 10.244.1.5", "pipes"),
    ("client-b", "traceroute --max-hops=x 10.244.1.5", "pipes"),
    ("client-b", "traceroute --help=3 10.244.1.5", "pipes"),
    ("client-b", "traceroute --ic 10.244.1.5", "pipes"),
    ("client-b", "traceroute -n --queries=1 --max-hops=2 10.244.1.5", "pipes"),
])
SESSIONS["clusterip-traceroute"] = ("clusterip", list(_TRACEROUTE))
SESSIONS["clusterip-traceroute-nft"] = ("clusterip", list(_TRACEROUTE))
#: seconds to wait before each line: a router sends a host at most about one ICMP error a
#: second after a burst of six (net.ipv4.icmp_ratelimit=1000 ms, a token bucket per
#: destination; time exceeded and unreachable are in icmp_ratemask), so back-to-back
#: traceroutes would show a '*' where the simulator, which keeps no clock, shows the hop
PAUSE = {"clusterip-traceroute": 2.0, "clusterip-traceroute-nft": 2.0}
#: sessions whose nodes run kube-proxy in nftables mode (the rules ``generate_nft`` writes)
NFT_SESSIONS = {"clusterip-ping-nft", "clusterip-traceroute-nft"}


def normalise(text: str) -> str:
    """Mask what differs between two runs of the same real command."""
    text = re.sub(r"(saw \d+\.\d+\.\d+\.\d+):\d+", r"\1:PORT", text)
    # a client's ephemeral source port (Linux picks it from 32768-60999)
    text = re.sub(r"((?:sport|dport)=|<(?:sport|dport)>)(3276[89]|327[7-9]\d|32[89]\d\d|3[3-9]\d{3}|[45]\d{4}|60\d{3})\b",
                  r"\1EPHEMERAL", text)
    text = re.sub(r"(\d+\.\d+\.\d+\.\d+\.)(3276[89]|327[7-9]\d|32[89]\d\d|3[3-9]\d{3}|[45]\d{4}|60\d{3})\b",
                  r"\1EPHEMERAL", text)
    # tcpdump: clock, random initial sequence numbers and TCP timestamps
    text = re.sub(r"^\d\d:\d\d:\d\d\.\d{6} ", "TIME ", text, flags=re.M)
    text = re.sub(r"\b(seq|ack) \d{5,}", r"\1 ISN", text)
    text = re.sub(r"TS val \d+ ecr (\d+)", lambda m: "TS val TS ecr " + ("0" if m.group(1) == "0" else "TS"), text)
    text = re.sub(r"\d+ packets? received by filter", "N packets received by filter", text)
    text = re.sub(r"(\d+\.\d+\.\d+\.\d+:)(3276[89]|327[7-9]\d|32[89]\d\d|3[3-9]\d{3}|[45]\d{4}|60\d{3})\b",
                  r"\1EPHEMERAL", text)
    text = re.sub(r"<id>\d+</id>", "<id>ID</id>", text)
    # dig: query id, clock, the build's version
    text = re.sub(r"(status: \w+, id: )\d+", r"\1ID", text)
    text = re.sub(r";; WHEN: .*", ";; WHEN: DATE", text)
    text = re.sub(r";; Query time: \d+ msec", ";; Query time: 0 msec", text)
    text = re.sub(r"DiG 9\.18\.[\w.~+-]+", "DiG 9.18", text)
    text = re.sub(r"\bid=\d+", "id=ID", text)
    # ping: round-trip times and the run's duration
    text = re.sub(r"time=\d+(?:\.\d+)? ms", "time=RTT ms", text)
    text = re.sub(r"rtt min/avg/max/mdev = [\d./]+ ms", "rtt min/avg/max/mdev = RTT ms", text)
    text = re.sub(r"(packet loss, time )\d+ms", r"\1Tms", text)
    # traceroute: each probe's round-trip time on a hop line (" 2  192.168.1.10  0.063 ms ...")
    text = re.sub(r"^( ?\d+  .*)$", lambda m: re.sub(r"\d+\.\d{3} ms", "RTT ms", m.group(1)), text, flags=re.M)
    # an ICMP conntrack entry's seconds left (30 s, counting down while the session runs)
    text = re.sub(r"^(icmp +1) \d+ ", r"\1 T ", text, flags=re.M)
    # connect() refused at once: curl's millisecond count depends on the machine's load
    text = re.sub(r"after \d{1,3} ms", "after 0 ms", text)  # (a busy machine: tens of ms)
    # the namespaces' eth0 is a veth (eth0@ifN) standing in for a node's NIC; MACs are random
    text = re.sub(r"\beth0@if\d+( *)", lambda m: "eth0" + " " * (len(m.group(0)) - 4 if m.group(1) else 0), text)
    text = re.sub(r"\b(?!00:00:00:00:00:00|ff:ff:ff:ff:ff:ff)[0-9a-f]{2}(?::[0-9a-f]{2}){5}\b", "MAC", text)
    return text


def _versions() -> dict[str, str]:
    out = {}
    for tool, argv in {"iptables": ["iptables", "-V"], "conntrack": ["conntrack", "-V"],
                       "iproute2": ["ip", "-V"], "curl": ["curl", "-V"], "ping": ["ping", "-V"], "traceroute": ["traceroute", "-V"], "kernel": ["uname", "-r"]}.items():
        try:
            r = subprocess.run(argv, capture_output=True, text=True, timeout=5)
            out[tool] = (r.stdout or r.stderr).splitlines()[0].strip()
        except (OSError, IndexError, subprocess.TimeoutExpired):
            out[tool] = "?"
    return out


def _run_pipes(ns: str, line: str) -> dict:
    r = subprocess.run(["ip", "netns", "exec", ns, "bash", "-c", line], capture_output=True,
                       timeout=30, stdin=subprocess.DEVNULL)  # bytes: a "\r" the tool wrote stays
    return {"stdout": r.stdout.decode(errors="replace"), "stderr": r.stderr.decode(errors="replace"),
            "exit": r.returncode}


def _run_tty(ns: str, line: str) -> dict:
    """Both streams on one pseudo-terminal (no echo): what a terminal shows."""
    master, slave = pty.openpty()
    attrs = termios.tcgetattr(slave)
    attrs[3] &= ~termios.ECHO
    termios.tcsetattr(slave, termios.TCSANOW, attrs)
    p = subprocess.Popen(["ip", "netns", "exec", ns, "bash", "-c", line], stdin=slave, stdout=slave,
                         stderr=slave, start_new_session=True, env={**os.environ, "COLUMNS": "80", "TERM": "xterm"})
    os.close(slave)
    chunks = []
    while True:
        r, _, _ = select.select([master], [], [], 30)
        if not r:
            break
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the terminal's other side closed
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    code = p.wait(30)
    text = b"".join(chunks).decode(errors="replace").replace("\r\n", "\n")
    return {"terminal": text, "exit": code}


def record(session: str) -> Path:
    sys.path.insert(0, str(ROOT / "tests"))
    from tests.kernel import netns as kn

    scenario_name, lines = SESSIONS[session]
    sc = load_scenario(ROOT / "scenarios" / f"{scenario_name}.yaml")

    class Cluster(kn.KernelCluster):
        def load_rules(self, node: str, text: str) -> None:  # the node's rules only: no TRACE rules
            ns = self.node_ns(node)
            self.tables[node] = tuple(x[1:].strip() for x in text.splitlines() if x.startswith("*"))
            if session in NFT_SESSIONS:
                from kubeflow_tui.kubeproxy.nftables import generate_nft
                kn.nsexec(ns, "nft", "-f", "-", input=generate_nft(self.scenario, node))
            elif text.strip():
                kn._ensure_nfacct(ns, text)
                kn.nsexec(ns, "iptables-restore", input=text)

        def _start_servers(self) -> None:
            for p in self.scenario.pods:
                ports = self._server_ports(p)
                if ports:
                    proc = kn._Proc(self.pod_ns(p.name), HTTP_PY, p.name, json.dumps(ports))
                    self._servers.append(proc)
                    proc.expect_ready(f"server in pod {p.name}")

    results = []
    with Cluster(sc, generate_restore) as kc:
        for node in kc.nodes:  # what kube-proxy sets on its node (localhost NodePorts)
            kn.nsexec(kc.node_ns(node), "sysctl", "-qw", "net.ipv4.conf.all.route_localnet=1")
        dns_dirs = []
        if session in DNS_SESSIONS:
            # cluster DNS for the pods: a responder on kube-dns' address in each pod's own
            # namespace, and the pod's resolv.conf (ip netns exec bind-mounts /etc/netns/NS/)
            from kubeflow_tui.cluster import ClusterSim
            from kubeflow_tui.shell import Shell
            probe = Shell(ClusterSim(sc), sc.pods[0].name).ctx
            from kubeflow_tui.shell.net_cmd import _records, dns_server, search_path
            from kubeflow_tui.shell.net_cmd import srv_records
            server, records = dns_server(probe), _records(probe)
            srv = srv_records(probe)
            for p in sc.pods:
                if p.name not in {line[0] for line in lines}:
                    continue  # (a CoreDNS pod's own server already listens on port 53)
                ns = kc.pod_ns(p.name)
                kn.nsexec(ns, "ip", "addr", "add", f"{server}/32", "dev", "lo")
                upstream = sc.cluster.upstreamDNS
                proc = kn._Proc(ns, DNS_PY, server, json.dumps(records), json.dumps(srv),
                                json.dumps({"records": upstream.records, "ttl": upstream.ttl}))
                kc._servers.append(proc)
                proc.expect_ready(f"dns in pod {p.name}")
                d = Path("/etc/netns") / ns
                d.mkdir(parents=True, exist_ok=True)
                pod_ctx = Shell(ClusterSim(sc), p.name).ctx
                (d / "resolv.conf").write_text(f"search {' '.join(search_path(pod_ctx))}\nnameserver {server}\n"
                                               "options ndots:5\n")
                dns_dirs.append(d)
        for host, line, mode, *sim_line in lines:
            if PAUSE.get(session):
                import time
                time.sleep(PAUSE[session])
            ns = kc.ns.get(f"node:{host}") or kc.ns.get(f"pod:{host}") or kc.ns[f"client:{host}"]
            real = re.sub(r"\{ns:([^}]+)\}", lambda m: kc.ns.get(f"pod:{m.group(1)}") or kc.ns[f"node:{m.group(1)}"],
                          line)
            got = _run_pipes(ns, real) if mode == "pipes" else _run_tty(ns, real)
            got = {k: normalise(v) if isinstance(v, str) else v for k, v in got.items()}
            rec = {"host": host, "line": sim_line[0] if sim_line else line, "mode": mode, **got}
            if sim_line:
                rec["real_line"] = line
            results.append(rec)
        for d in dns_dirs:
            (d / "resolv.conf").unlink(missing_ok=True)
            d.rmdir()
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{session}.json"
    doc = {"scenario": scenario_name, "recorded_with": _versions(), "commands": results}
    if session in NFT_SESSIONS:
        doc = {"scenario": scenario_name, "proxyMode": "nftables", **doc}
    path.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
    return path


def main(argv: list[str]) -> int:
    if os.geteuid() != 0:
        print("record_shell: needs root (network namespaces)", file=sys.stderr)
        return 2
    names = argv or list(SESSIONS)
    for name in names:
        if name not in SESSIONS:
            print(f"record_shell: no session {name!r} (sessions: {', '.join(SESSIONS)})", file=sys.stderr)
            return 2
        print(record(name))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
