"""``nft monitor trace`` read into packets: recorded nftables 1.0.6 output (a NodePort SYN
and the first reply on node-a, kube-proxy in nftables mode), no root needed."""

from __future__ import annotations

from .nft_capture import parse_nft_trace, parse_packet

RECORDED = """\
trace id 0510beac ip kt-trace prerouting packet: iif "eth0" ether saddr 06:db:08:f1:d8:3c ether daddr 6e:da:26:aa:60:10 ip saddr 192.168.1.2 ip daddr 192.168.1.10 ip dscp cs0 ip ecn not-ect ip ttl 64 ip id 65096 ip length 60 tcp sport 40000 tcp dport 30080 tcp flags == syn tcp window 64240 
trace id 0510beac ip kt-trace prerouting rule meta l4proto { icmp, tcp, udp } meta nftrace set 1 (verdict continue)
trace id 0510beac ip kt-trace prerouting policy accept 
trace id 0510beac ip kube-proxy filter-prerouting-pre-dnat packet: iif "eth0" ether saddr 06:db:08:f1:d8:3c ether daddr 6e:da:26:aa:60:10 ip saddr 192.168.1.2 ip daddr 192.168.1.10 ip dscp cs0 ip ecn not-ect ip ttl 64 ip id 65096 ip length 60 tcp sport 40000 tcp dport 30080 tcp flags == syn tcp window 64240 
trace id 0510beac ip kube-proxy filter-prerouting-pre-dnat rule ct state new jump firewall-check (verdict jump firewall-check)
trace id 0510beac ip kube-proxy filter-prerouting-pre-dnat policy accept 
trace id 0510beac ip kube-proxy nat-prerouting packet: iif "eth0" ether saddr 06:db:08:f1:d8:3c ether daddr 6e:da:26:aa:60:10 ip saddr 192.168.1.2 ip daddr 192.168.1.10 ip dscp cs0 ip ecn not-ect ip ttl 64 ip id 65096 ip length 60 tcp sport 40000 tcp dport 30080 tcp flags == syn tcp window 64240 
trace id 0510beac ip kube-proxy nat-prerouting rule jump services (verdict jump services)
trace id 0510beac ip kube-proxy services rule ip daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports (verdict goto external-SUSTUHLJ-default/web/tcp/http)
trace id 0510beac ip kube-proxy external-SUSTUHLJ-default/web/tcp/http rule jump mark-for-masquerade (verdict jump mark-for-masquerade)
trace id 0510beac ip kube-proxy mark-for-masquerade rule meta mark set meta mark | 0x00004000 (verdict continue)
trace id 0510beac ip kube-proxy external-SUSTUHLJ-default/web/tcp/http rule goto service-SUSTUHLJ-default/web/tcp/http (verdict goto service-SUSTUHLJ-default/web/tcp/http)
trace id 0510beac ip kube-proxy service-SUSTUHLJ-default/web/tcp/http rule numgen random mod 1 vmap { 0 : goto endpoint-HGNPOIJ5-default/web/tcp/http__10.244.1.5/8080 } (verdict goto endpoint-HGNPOIJ5-default/web/tcp/http__10.244.1.5/8080)
trace id 0510beac ip kube-proxy endpoint-HGNPOIJ5-default/web/tcp/http__10.244.1.5/8080 rule meta l4proto tcp dnat to 10.244.1.5:8080 (verdict accept)
trace id 0510beac ip kube-proxy filter-forward packet: iif "eth0" oif "veth-web-1" ether saddr 06:db:08:f1:d8:3c ether daddr 6e:da:26:aa:60:10 ip saddr 192.168.1.2 ip daddr 10.244.1.5 ip dscp cs0 ip ecn not-ect ip ttl 63 ip id 65096 ip length 60 tcp sport 40000 tcp dport 8080 tcp flags == syn tcp window 64240 
trace id 0510beac ip kube-proxy filter-forward rule ct state new jump service-endpoints-check (verdict jump service-endpoints-check)
trace id 0510beac ip kube-proxy filter-forward rule ct state new jump cluster-ips-check (verdict jump cluster-ips-check)
trace id 0510beac ip kube-proxy filter-forward policy accept meta mark 0x00004000 
trace id 0510beac ip kube-proxy nat-postrouting packet: iif "eth0" oif "veth-web-1" ether saddr 06:db:08:f1:d8:3c ether daddr 6e:da:26:aa:60:10 ip saddr 192.168.1.2 ip daddr 10.244.1.5 ip dscp cs0 ip ecn not-ect ip ttl 63 ip id 65096 ip length 60 tcp sport 40000 tcp dport 8080 tcp flags == syn tcp window 64240 
trace id 0510beac ip kube-proxy nat-postrouting rule jump masquerading (verdict jump masquerading)
trace id 0510beac ip kube-proxy masquerading rule meta mark set meta mark ^ 0x00004000 (verdict continue)
trace id 0510beac ip kube-proxy masquerading rule masquerade fully-random (verdict accept)
trace id ed164303 ip kt-trace prerouting packet: iif "veth-web-1" ether saddr 1a:28:64:1c:1c:56 ether daddr 06:a4:4a:0d:1b:6b ip saddr 10.244.1.5 ip daddr 10.244.1.1 ip dscp cs0 ip ecn not-ect ip ttl 64 ip id 0 ip length 60 tcp sport 8080 tcp dport 32605 tcp flags == 0x12 tcp window 65160 
trace id ed164303 ip kt-trace prerouting rule meta l4proto { icmp, tcp, udp } meta nftrace set 1 (verdict continue)
trace id ed164303 ip kt-trace prerouting policy accept 
trace id ed164303 ip kube-proxy filter-prerouting-pre-dnat packet: iif "veth-web-1" ether saddr 1a:28:64:1c:1c:56 ether daddr 06:a4:4a:0d:1b:6b ip saddr 10.244.1.5 ip daddr 10.244.1.1 ip dscp cs0 ip ecn not-ect ip ttl 64 ip id 0 ip length 60 tcp sport 8080 tcp dport 32605 tcp flags == 0x12 tcp window 65160 
trace id ed164303 ip kube-proxy filter-prerouting-pre-dnat policy accept 
"""


def test_packets_events_and_headers():
    syn, synack = parse_nft_trace(RECORDED)
    # the referee's own table is not part of the path
    assert {e.table for e in syn.events} == {"ip kube-proxy"}
    labels = [e.label for e in syn.events]
    assert labels[:3] == ["ip kube-proxy:filter-prerouting-pre-dnat:JUMP:FIREWALL-CHECK",
                          "ip kube-proxy:filter-prerouting-pre-dnat:policy:ACCEPT",
                          "ip kube-proxy:nat-prerouting:JUMP:SERVICES"]
    assert "ip kube-proxy:mark-for-masquerade:CONTINUE" in labels
    assert labels[-1] == "ip kube-proxy:masquerading:ACCEPT"
    assert syn.events[3].rule == ("ip daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports")
    # one header per (table, hook): the first base chain of the hook
    assert syn.base_chains == [("ip kube-proxy", "PREROUTING"), ("ip kube-proxy", "FORWARD"),
                               ("ip kube-proxy", "POSTROUTING")]
    pre, fwd, post = syn.headers
    assert (pre.dst, pre.dport, pre.flags, pre.mark) == ("192.168.1.10", 30080, ("SYN",), 0)
    assert (fwd.dst, fwd.dport, fwd.oif) == ("10.244.1.5", 8080, "veth-web-1")
    assert fwd.mark == -1  # nat-prerouting ended by the dnat rule's verdict: nft printed no mark
    assert post.mark == 0x4000  # filter-forward's policy line said so
    assert set(synack.first.flags) == {"SYN", "ACK"} and synack.first.dport == 32605


def test_udp_and_icmp_fields():
    udp = parse_packet('iif "eth0" ip saddr 10.244.2.7 ip daddr 10.96.0.10 ip id 7 ip length 61 '
                       "udp sport 40000 udp dport 53 udp length 41")
    assert (udp.proto, udp.sport, udp.dport, udp.flags) == ("udp", 40000, 53, ())
    icmp = parse_packet("ip saddr 192.168.1.10 ip daddr 10.244.2.7 icmp type destination-unreachable "
                        "icmp code port-unreachable")
    assert icmp.proto == "icmp"
