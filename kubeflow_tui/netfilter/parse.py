"""Read iptables text (``iptables-restore`` input and ``iptables-save`` output) into a
:class:`~kubeflow_tui.netfilter.rules.Ruleset`.

Everything is normalised the way iptables 1.8.9 (nf_tables backend) stores it, so
that :mod:`.render` prints back exactly what ``iptables-save`` prints: addresses as
``net/prefix`` masked to the network, implied ``-m tcp``/``-m udp``/``-m icmp``,
``-j MARK --or-mark X`` as ``--set-xmark X/X``, REJECT with ``--reject-with``,
``statistic`` probabilities as the kernel keeps them (``round(p*2^31)/2^31`` with 11
decimals), numeric ports, options in the order iptables-save prints them.  These
facts were checked against the kernel (see tests/fixtures/netfilter/).

Whatever ``iptables-restore`` rejects raises :class:`IptablesError` with the line and
the rule; nothing is silently ignored.  Stdlib only.
"""

from __future__ import annotations

import gc
from dataclasses import fields

from .errors import IptablesError
from .rules import BUILTIN_CHAINS, Chain, Match, Option, Rule, Ruleset, Table

__all__ = [
    "parse_iptables_save",
    "parse_rule_args",
    "tokenize",
    "TABLES",
    "SAVE_TABLE_ORDER",
]

#: Tables iptables-restore accepts here.
TABLES = ("raw", "mangle", "nat", "filter")
#: The order iptables-save (nf_tables) prints the tables in.
SAVE_TABLE_ORDER = ("mangle", "raw", "filter", "nat")

MAX_CHAIN_NAME = 28  # "chain name `X' too long (must be under 29 chars)"
IFNAMSIZ = 16


# ---------------------------------------------------------------------------
# names (protocols, services, icmp types) as this machine's iptables knows them
# ---------------------------------------------------------------------------

#: protocol number -> name, as iptables prints it (its own list, then /etc/protocols)
PROTO_NAMES: dict[int, str] = {
    1: "icmp", 2: "igmp", 3: "ggp", 4: "ipencap", 5: "st", 6: "tcp", 8: "egp", 9: "igp",
    12: "pup", 17: "udp", 20: "hmp", 22: "xns-idp", 27: "rdp", 29: "iso-tp4", 33: "dccp",
    36: "xtp", 37: "ddp", 38: "idpr-cmtp", 41: "ipv6", 43: "ipv6-route", 44: "ipv6-frag",
    45: "idrp", 46: "rsvp", 47: "gre", 50: "esp", 51: "ah", 57: "skip", 58: "ipv6-icmp",
    59: "ipv6-nonxt", 60: "ipv6-opts", 73: "rspf", 81: "vmtp", 88: "eigrp", 89: "ospf",
    93: "ax.25", 94: "ipip", 97: "etherip", 98: "encap", 103: "pim", 108: "ipcomp",
    112: "vrrp", 115: "l2tp", 124: "isis", 132: "sctp", 133: "fc", 135: "mobility-header",
    136: "udplite", 137: "mpls-in-ip", 138: "manet", 139: "hip", 140: "shim6", 141: "wesp",
    142: "rohc", 143: "ethernet",
}
_PROTO_BY_NAME: dict[str, int] = {v: k for k, v in PROTO_NAMES.items()}
_PROTO_BY_NAME.update({"all": 0, "ip": 0, "hopopt": 0, "icmpv6": 58, "ipv6-icmp": 58,
                       "mh": 135})

# Debian netbase /etc/services, tcp and udp entries: "name port{t|u} aliases;..."
_SERVICES = (
    "tcpmux 1t;echo 7t;echo 7u;discard 9t sink null;discard 9u sink null;systat 11t "
    "users;daytime 13t;daytime 13u;netstat 15t;qotd 17t quote;chargen 19t ttytst "
    "source;chargen 19u ttytst source;ftp-data 20t;ftp 21t;fsp 21u fspd;ssh 22t;telnet "
    "23t;smtp 25t mail;time 37t timserver;time 37u timserver;whois 43t nicname;tacacs "
    "49t;tacacs 49u;domain 53t;domain 53u;bootps 67u;bootpc 68u;tftp 69u;gopher "
    "70t;finger 79t;http 80t www;kerberos 88t kerberos5 krb5 kerberos-sec;kerberos 88u "
    "kerberos5 krb5 kerberos-sec;iso-tsap 102t tsap;acr-nema 104t dicom;pop3 110t "
    "pop-3;sunrpc 111t portmapper;sunrpc 111u portmapper;auth 113t authentication tap "
    "ident;nntp 119t readnews untp;ntp 123u;epmap 135t loc-srv;netbios-ns "
    "137u;netbios-dgm 138u;netbios-ssn 139t;imap2 143t imap;snmp 161t;snmp 161u;snmp-trap "
    "162t snmptrap;snmp-trap 162u snmptrap;cmip-man 163t;cmip-man 163u;cmip-agent "
    "164t;cmip-agent 164u;mailq 174t;xdmcp 177u;bgp 179t;smux 199t;qmtp 209t;z3950 210t "
    "wais;ipx 213u;ptp-event 319u;ptp-general 320u;pawserv 345t;zserv 346t;rpc2portmap "
    "369t;rpc2portmap 369u;codaauth2 370t;codaauth2 370u;clearcase 371u Clearcase;ldap "
    "389t;ldap 389u;svrloc 427t;svrloc 427u;https 443t;https 443u;snpp 444t;microsoft-ds "
    "445t;kpasswd 464t;kpasswd 464u;submissions 465t ssmtp smtps urd;saft 487t;isakmp "
    "500u;rtsp 554t;rtsp 554u;nqs 607t;asf-rmcp 623u;qmqp 628t;ipp 631t;ldp 646t;ldp "
    "646u;exec 512t;biff 512u comsat;login 513t;who 513u whod;shell 514t cmd;syslog "
    "514u;printer 515t spooler;talk 517u;ntalk 518u;route 520u router routed;gdomap "
    "538t;gdomap 538u;uucp 540t uucpd;klogin 543t;kshell 544t krcmd;dhcpv6-client "
    "546u;dhcpv6-server 547u;afpovertcp 548t;nntps 563t snntp;submission 587t;ldaps "
    "636t;ldaps 636u;tinc 655t;tinc 655u;silc 706t;kerberos-adm 749t;domain-s "
    "853t;domain-s 853u;rsync 873t;ftps-data 989t;ftps 990t;telnets 992t;imaps "
    "993t;pop3s 995t;socks 1080t;proofd 1093t;rootd 1094t;openvpn 1194t;openvpn "
    "1194u;rmiregistry 1099t;lotusnote 1352t lotusnotes;ms-sql-s 1433t;ms-sql-m "
    "1434u;ingreslock 1524t;datametrics 1645t old-radius;sa-msg-port 1646t "
    "old-radacct;kermit 1649t;groupwise 1677t;l2f 1701u l2tp;radius 1812t;radius "
    "1812u;radius-acct 1813t radacct;radius-acct 1813u radacct;cisco-sccp 2000t;nfs "
    "2049t;nfs 2049u;gnunet 2086t;gnunet 2086u;rtcm-sc104 2101t;rtcm-sc104 "
    "2101u;gsigatekeeper 2119t;gris 2135t;cvspserver 2401t;venus 2430t;venus "
    "2430u;venus-se 2431t;venus-se 2431u;codasrv 2432t;codasrv 2432u;codasrv-se "
    "2433t;codasrv-se 2433u;mon 2583t;mon 2583u;dict 2628t;f5-globalsite 2792t;gsiftp "
    "2811t;gpsd 2947t;gds-db 3050t gds_db;icpv2 3130u icp;isns 3205t;isns 3205u;iscsi-target "
    "3260t;mysql 3306t;ms-wbt-server 3389t;nut 3493t;nut 3493u;distcc 3632t;daap "
    "3689t;svn 3690t subversion;suucp 4031t;sysrqd 4094t;sieve 4190t;epmd 4369t;remctl "
    "4373t;f5-iquery 4353t;ntske 4460t;ipsec-nat-t 4500u;iax 4569u;mtn 4691t;radmin-port "
    "4899t;sip 5060t;sip 5060u;sip-tls 5061t;sip-tls 5061u;xmpp-client 5222t "
    "jabber-client;xmpp-server 5269t jabber-server;cfengine 5308t;mdns 5353u;postgresql "
    "5432t postgres;freeciv 5556t rptp;amqps 5671t;amqp 5672t;x11 6000t x11-0;x11-1 "
    "6001t;x11-2 6002t;x11-3 6003t;x11-4 6004t;x11-5 6005t;x11-6 6006t;x11-7 "
    "6007t;gnutella-svc 6346t;gnutella-svc 6346u;gnutella-rtr 6347t;gnutella-rtr "
    "6347u;redis 6379t;sge-qmaster 6444t sge_qmaster;sge-execd 6445t sge_execd;mysql-proxy "
    "6446t;babel 6696u;ircs-u 6697t;bbs 7000t;afs3-fileserver 7000u;afs3-callback "
    "7001u;afs3-prserver 7002u;afs3-vlserver 7003u;afs3-kaserver 7004u;afs3-volser "
    "7005u;afs3-bos 7007u;afs3-update 7008u;afs3-rmtsys 7009u;font-service 7100t "
    "xfs;http-alt 8080t webcache;puppet 8140t;bacula-dir 9101t;bacula-fd 9102t;bacula-sd "
    "9103t;xmms2 9667t;nbd 10809t;zabbix-agent 10050t;zabbix-trapper 10051t;amanda "
    "10080t;dicom 11112t;hkp 11371t;db-lsp 17500t;dcap 22125t;gsidcap 22128t;wnn6 "
    "22273t;kerberos4 750u kerberos-iv kdc;kerberos4 750t kerberos-iv "
    "kdc;kerberos-master 751u;kerberos-master 751t;passwd-server 752u;krb-prop 754t "
    "krb_prop krb5_prop hprop;zephyr-srv 2102u;zephyr-clt 2103u;zephyr-hm 2104u;iprop "
    "2121t;supfilesrv 871t;supfiledbg 1127t;poppassd 106t;moira-db 775t moira_db;moira-update "
    "777t moira_update;moira-ureg 779u moira_ureg;spamd 783t;skkserv 1178t;predict "
    "1210u;rmtcfg 1236t;xtel 1313t;xtelw 1314t;zebrasrv 2600t;zebra 2601t;ripd "
    "2602t;ripngd 2603t;ospfd 2604t;bgpd 2605t;ospf6d 2606t;ospfapi 2607t;isisd "
    "2608t;fax 4557t;hylafax 4559t;munin 4949t lrrd;rplay 5555u;nrpe 5666t;nsca "
    "5667t;canna 5680t;syslog-tls 6514t;sane-port 6566t sane saned;ircd 6667t;zope-ftp "
    "8021t;tproxy 8081t;omniorb 8088t;clc-build-daemon 8990t;xinetd 9098t;git "
    "9418t;zope 9673t;webmin 10000t;kamanda 10081t;amandaidx 10082t;amidxtape "
    "10083t;sgi-cmsd 17001u;sgi-crsd 17002u;sgi-gcd 17003u;sgi-cad 17004t;binkp "
    "24554t;asp 27374t;asp 27374u;csync2 30865t;dircproxy 57000t;tfido 60177t;fido "
    "60179t "
)


def _load_services() -> tuple[dict[tuple[int, str], str], dict[tuple[str, str], int]]:
    by_port: dict[tuple[int, str], str] = {}
    by_name: dict[tuple[str, str], int] = {}
    for entry in _SERVICES.split(";"):
        parts = entry.split()
        if len(parts) < 2:
            continue
        name, pp = parts[0], parts[1]
        port, proto = int(pp[:-1]), ("tcp" if pp[-1] == "t" else "udp")
        by_port.setdefault((port, proto), name)
        for n in parts[:1] + parts[2:]:
            by_name.setdefault((n, proto), port)
    return by_port, by_name


SERVICE_BY_PORT, _SERVICE_BY_NAME = _load_services()

#: icmp type names (libipt_icmp): name -> (type, code_min, code_max), in print order
ICMP_TYPES: dict[str, tuple[int, int, int]] = {
    "any": (0xFF, 0, 0xFF),
    "echo-reply": (0, 0, 0xFF),
    "destination-unreachable": (3, 0, 0xFF),
    "network-unreachable": (3, 0, 0),
    "host-unreachable": (3, 1, 1),
    "protocol-unreachable": (3, 2, 2),
    "port-unreachable": (3, 3, 3),
    "fragmentation-needed": (3, 4, 4),
    "source-route-failed": (3, 5, 5),
    "network-unknown": (3, 6, 6),
    "host-unknown": (3, 7, 7),
    "network-prohibited": (3, 9, 9),
    "host-prohibited": (3, 10, 10),
    "TOS-network-unreachable": (3, 11, 11),
    "TOS-host-unreachable": (3, 12, 12),
    "communication-prohibited": (3, 13, 13),
    "host-precedence-violation": (3, 14, 14),
    "precedence-cutoff": (3, 15, 15),
    "source-quench": (4, 0, 0xFF),
    "redirect": (5, 0, 0xFF),
    "network-redirect": (5, 0, 0),
    "host-redirect": (5, 1, 1),
    "TOS-network-redirect": (5, 2, 2),
    "TOS-host-redirect": (5, 3, 3),
    "echo-request": (8, 0, 0xFF),
    "router-advertisement": (9, 0, 0xFF),
    "router-solicitation": (10, 0, 0xFF),
    "time-exceeded": (11, 0, 0xFF),
    "ttl-zero-during-transit": (11, 0, 0),
    "ttl-zero-during-reassembly": (11, 1, 1),
    "parameter-problem": (12, 0, 0xFF),
    "ip-header-bad": (12, 0, 0),
    "required-option-missing": (12, 1, 1),
    "timestamp-request": (13, 0, 0xFF),
    "timestamp-reply": (14, 0, 0xFF),
    "address-mask-request": (17, 0, 0xFF),
    "address-mask-reply": (18, 0, 0xFF),
}
_ICMP_ALIASES = {"ping": "echo-request", "pong": "echo-reply",
                 "ttl-exceeded": "time-exceeded"}

TCP_FLAGS = (("FIN", 0x01), ("SYN", 0x02), ("RST", 0x04), ("PSH", 0x08), ("ACK", 0x10),
             ("URG", 0x20))
_TCP_FLAG_BY_NAME = dict(TCP_FLAGS) | {"ALL": 0x3F, "NONE": 0}

CT_STATES = ("INVALID", "NEW", "RELATED", "ESTABLISHED", "UNTRACKED", "SNAT", "DNAT")
STATE_STATES = ("INVALID", "NEW", "RELATED", "ESTABLISHED", "UNTRACKED")
CT_STATUSES = ("EXPECTED", "SEEN_REPLY", "ASSURED", "CONFIRMED")
ADDR_TYPES = ("UNSPEC", "UNICAST", "LOCAL", "BROADCAST", "ANYCAST", "MULTICAST",
              "BLACKHOLE", "UNREACHABLE", "PROHIBIT", "THROW", "NAT", "XRESOLVE")

REJECT_WITH = {
    "icmp-net-unreachable": "icmp-net-unreachable", "net-unreach": "icmp-net-unreachable",
    "icmp-host-unreachable": "icmp-host-unreachable", "host-unreach": "icmp-host-unreachable",
    "icmp-proto-unreachable": "icmp-proto-unreachable",
    "proto-unreach": "icmp-proto-unreachable",
    "icmp-port-unreachable": "icmp-port-unreachable", "port-unreach": "icmp-port-unreachable",
    "icmp-net-prohibited": "icmp-net-prohibited", "net-prohib": "icmp-net-prohibited",
    "icmp-host-prohibited": "icmp-host-prohibited", "host-prohib": "icmp-host-prohibited",
    "tcp-reset": "tcp-reset", "tcp-rst": "tcp-reset",
    "icmp-admin-prohibited": "icmp-admin-prohibited", "admin-prohib": "icmp-admin-prohibited",
}

#: LOG levels: numeric value -> name printed by ``iptables -L`` (non-numeric)
LOG_LEVEL_NAMES = ("emerg", "alert", "crit", "err", "warn", "notice", "info", "debug")
_LOG_LEVEL_BY_NAME = {n: i for i, n in enumerate(LOG_LEVEL_NAMES)} | {
    "panic": 0, "error": 3, "warning": 4}
LOG_FLAGS = (("--log-tcp-sequence", 0x01, "tcp-sequence"),
             ("--log-tcp-options", 0x02, "tcp-options"),
             ("--log-ip-options", 0x04, "ip-options"),
             ("--log-uid", 0x08, "uid"),
             ("--log-macdecode", 0x20, "macdecode"))

# ---------------------------------------------------------------------------
# option tables: module -> {spelling: (canonical name, number of arguments)}
# ---------------------------------------------------------------------------

_PORT_OPTS = {"--sport": ("--sport", 1), "--source-port": ("--sport", 1),
              "--dport": ("--dport", 1), "--destination-port": ("--dport", 1)}

MATCH_OPTIONS: dict[str, dict[str, tuple[str, int]]] = {
    "tcp": _PORT_OPTS | {"--tcp-flags": ("--tcp-flags", 2), "--syn": ("--syn", 0),
                         "--tcp-option": ("--tcp-option", 1)},
    "udp": dict(_PORT_OPTS),
    "icmp": {"--icmp-type": ("--icmp-type", 1)},
    "multiport": {"--sports": ("--sports", 1), "--source-ports": ("--sports", 1),
                  "--dports": ("--dports", 1), "--destination-ports": ("--dports", 1),
                  "--ports": ("--ports", 1)},
    "comment": {"--comment": ("--comment", 1)},
    "statistic": {"--mode": ("--mode", 1), "--probability": ("--probability", 1),
                  "--every": ("--every", 1), "--packet": ("--packet", 1)},
    "mark": {"--mark": ("--mark", 1)},
    "addrtype": {"--src-type": ("--src-type", 1), "--dst-type": ("--dst-type", 1),
                 "--limit-iface-in": ("--limit-iface-in", 0),
                 "--limit-iface-out": ("--limit-iface-out", 0)},
    "conntrack": {o: (o, 1) for o in (
        "--ctstate", "--ctproto", "--ctorigsrc", "--ctorigdst", "--ctreplsrc", "--ctrepldst",
        "--ctorigsrcport", "--ctorigdstport", "--ctreplsrcport", "--ctrepldstport",
        "--ctstatus", "--ctexpire", "--ctdir")},
    "state": {"--state": ("--state", 1)},
    "nfacct": {"--nfacct-name": ("--nfacct-name", 1)},
    "recent": {"--name": ("--name", 1), "--set": ("--set", 0), "--rcheck": ("--rcheck", 0),
               "--update": ("--update", 0), "--remove": ("--remove", 0),
               "--seconds": ("--seconds", 1), "--reap": ("--reap", 0),
               "--hitcount": ("--hitcount", 1), "--rttl": ("--rttl", 0),
               "--rsource": ("--rsource", 0), "--rdest": ("--rdest", 0),
               "--mask": ("--mask", 1)},
}

TARGET_OPTIONS: dict[str, dict[str, tuple[str, int]]] = {
    "ACCEPT": {}, "DROP": {}, "RETURN": {}, "TRACE": {}, "NOTRACK": {},
    "REJECT": {"--reject-with": ("--reject-with", 1)},
    "DNAT": {"--to-destination": ("--to-destination", 1), "--random": ("--random", 0),
             "--persistent": ("--persistent", 0)},
    "SNAT": {"--to-source": ("--to-source", 1), "--random": ("--random", 0),
             "--random-fully": ("--random-fully", 0), "--persistent": ("--persistent", 0)},
    "MASQUERADE": {"--to-ports": ("--to-ports", 1), "--random": ("--random", 0),
                   "--random-fully": ("--random-fully", 0)},
    "MARK": {o: (o, 1) for o in ("--set-mark", "--set-xmark", "--or-mark", "--and-mark",
                                 "--xor-mark")},
    "LOG": {"--log-prefix": ("--log-prefix", 1), "--log-level": ("--log-level", 1)}
    | {flag: (flag, 0) for flag, _, _ in LOG_FLAGS},
    "CT": {"--notrack": ("--notrack", 0), "--zone": ("--zone", 1)},
}

#: target -> the only table it may be used in
TARGET_TABLE = {"DNAT": "nat", "SNAT": "nat", "MASQUERADE": "nat", "REJECT": "filter",
                "CT": "raw", "NOTRACK": "raw"}
#: target -> the built-in chains (hooks) it may be reached from
TARGET_HOOKS = {"DNAT": ("PREROUTING", "OUTPUT"), "SNAT": ("INPUT", "POSTROUTING"),
                "MASQUERADE": ("POSTROUTING",)}

_TARGET_HOOK_SETS = {k: frozenset(v) for k, v in TARGET_HOOKS.items()}

_STD_TARGETS = frozenset({"ACCEPT", "DROP", "RETURN", "QUEUE"})

_SHORT = {
    "-s": "s", "--source": "s", "--src": "s",
    "-d": "d", "--destination": "d", "--dst": "d",
    "-p": "p", "--protocol": "p",
    "-i": "i", "--in-interface": "i",
    "-o": "o", "--out-interface": "o",
    "-f": "f", "--fragment": "f",
    "-j": "j", "--jump": "j",
    "-g": "g", "--goto": "g",
    "-m": "m", "--match": "m",
    "-c": "c", "--set-counters": "c",
}


class _Err(Exception):
    """Internal: a message to be turned into IptablesError with the rule text."""


# ---------------------------------------------------------------------------
# small value parsers
# ---------------------------------------------------------------------------

def _uint(text: str, what: str, maximum: int = 0xFFFFFFFF) -> int:
    """strtoul(base 0) as xtables_strtoui: decimal, 0x hex, 0 octal."""
    t = text
    try:
        if t[:2] in ("0x", "0X"):
            if len(t) == 2:
                raise ValueError
            v = int(t[2:], 16)
        elif len(t) > 1 and t[0] == "0":
            v = int(t[1:], 8)
        else:
            if not t.isdigit():
                raise ValueError
            v = int(t)
        if not t.isascii() or "_" in t:
            raise ValueError
    except ValueError:
        raise _Err(f"bad value {text!r} for {what}") from None
    if v > maximum:
        raise _Err(f"value {text!r} for {what} out of range (max {maximum})")
    return v


_ADDR_CACHE: dict[str, tuple[int, int]] = {}


def _ipv4(text: str) -> int:
    parts = text.split(".")
    if len(parts) != 4:
        raise ValueError
    v = 0
    for p in parts:
        if not p.isdigit() or not p.isascii() or len(p) > 3:
            raise ValueError
        n = int(p)
        if n > 255:
            raise ValueError
        v = (v << 8) | n
    return v


def _ntoa(v: int) -> str:
    return f"{v >> 24}.{(v >> 16) & 255}.{(v >> 8) & 255}.{v & 255}"


def _mask_bits(mask: int) -> int | None:
    """prefix length of a contiguous mask, else None."""
    inv = ~mask & 0xFFFFFFFF
    if inv & (inv + 1):
        return None
    return 32 - inv.bit_length()


def _parse_net(text: str) -> tuple[int, int]:
    """``ip[/prefix|/dotted-mask]`` -> (network, mask), the address masked."""
    hit = _ADDR_CACHE.get(text)
    if hit is not None:
        return hit
    addr, sep, m = text.partition("/")
    try:
        ip = _ipv4(addr)
    except ValueError:
        raise _Err(f"host/network `{addr}' not found") from None
    if not sep:
        mask = 0xFFFFFFFF
    elif m.isdigit() and m.isascii():
        bits = int(m)
        if bits > 32:
            raise _Err(f"invalid mask `{m}' specified")
        mask = (0xFFFFFFFF << (32 - bits)) & 0xFFFFFFFF
    else:
        try:
            mask = _ipv4(m)
        except ValueError:
            raise _Err(f"invalid mask `{m}' specified") from None
    res = (ip & mask, mask)
    if len(_ADDR_CACHE) < 200_000:
        _ADDR_CACHE[text] = res
    return res


def format_net(net: int, mask: int) -> str:
    bits = _mask_bits(mask)
    return f"{_ntoa(net)}/{bits if bits is not None else _ntoa(mask)}"


_CIDR_CACHE: dict[str, str] = {}


def _cidr(text: str) -> str:
    hit = _CIDR_CACHE.get(text)
    if hit is None:
        if "," in text:
            raise _Err(f"address lists ({text}) are not supported here; "
                       "write one rule per address")
        hit = format_net(*_parse_net(text))
        if len(_CIDR_CACHE) < 200_000:
            _CIDR_CACHE[text] = hit
    return hit


def parse_proto(text: str) -> int:
    low = text.lower()
    if low in _PROTO_BY_NAME:
        return _PROTO_BY_NAME[low]
    if text.isdigit() and text.isascii():
        v = int(text)
        if v <= 255:
            return v
    raise _Err(f"unknown protocol \"{text}\" specified")


def proto_name(num: int) -> str:
    return PROTO_NAMES.get(num, str(num))


def _port(text: str, proto: str | None) -> int:
    if text.isdigit() and text.isascii():
        v = int(text)
        if v <= 65535:
            return v
    elif proto in ("tcp", "udp") and (text, proto) in _SERVICE_BY_NAME:
        return _SERVICE_BY_NAME[(text, proto)]
    elif proto not in ("tcp", "udp"):
        for p in ("tcp", "udp"):
            if (text, p) in _SERVICE_BY_NAME:
                return _SERVICE_BY_NAME[(text, p)]
    raise _Err(f"invalid port/service `{text}' specified")


def _port_range(text: str, proto: str | None, sep: str = ":") -> tuple[int, int]:
    a, s, b = text.partition(sep)
    if not s:
        p = _port(a, proto)
        return p, p
    lo = _port(a, proto) if a else 0
    hi = _port(b, proto) if b else 65535
    if lo > hi:
        raise _Err("invalid portrange (min > max)")
    return lo, hi


def _fmt_range(lo: int, hi: int, sep: str = ":") -> str:
    return str(lo) if lo == hi else f"{lo}{sep}{hi}"


def _hexmark(text: str, what: str) -> tuple[int, int | None]:
    v, s, m = text.partition("/")
    val = _uint(v, what)
    return val, (_uint(m, what) if s else None)


# ---------------------------------------------------------------------------
# match modules: (collected options, context) -> normalised Option tuple
# collected options are tuples (negated, canonical name, args)
# ---------------------------------------------------------------------------

def _one(opts, name):
    found = None
    for o in opts:
        if o[1] == name:
            if found is not None:
                raise _Err(f"option \"{name}\" can only be used once")
            found = o
    return found


def _no_neg(o):
    if o[0]:
        raise _Err(f"option \"{o[1]}\" cannot be inverted")


def _m_tcpudp(module, opts, proto, proto_neg):
    if proto != module or proto_neg:
        raise _Err(f"{module.upper()} match requires '-p {module}'")
    out = []
    for name in ("--sport", "--dport"):
        o = _one(opts, name)
        if o is None:
            continue
        lo, hi = _port_range(o[2][0], module)
        if lo == 0 and hi == 65535 and not o[0]:
            continue
        out.append(Option(name, (_fmt_range(lo, hi),), o[0]))
    if module == "tcp":
        o = _one(opts, "--tcp-option")
        if o is not None:
            out.append(Option("--tcp-option", (str(_uint(o[2][0], "--tcp-option", 255)),),
                              o[0]))
        flags = [o for o in opts if o[1] in ("--tcp-flags", "--syn")]
        if len(flags) > 1:
            raise _Err("only one of --tcp-flags / --syn allowed")
        if flags:
            o = flags[0]
            if o[1] == "--syn":
                mask, cmp = 0x17, 0x02
            else:
                mask, cmp = _tcpflags(o[2][0]), _tcpflags(o[2][1])
            if mask or o[0]:
                out.append(Option("--tcp-flags", (tcpflags_text(mask), tcpflags_text(cmp)),
                                  o[0]))
    return tuple(out)


def _tcpflags(text: str) -> int:
    v = 0
    for f in text.split(","):
        if f.upper() not in _TCP_FLAG_BY_NAME:
            raise _Err(f"Unknown TCP flag `{f}'")
        v |= _TCP_FLAG_BY_NAME[f.upper()]
    return v


def tcpflags_text(v: int) -> str:
    names = [n for n, bit in TCP_FLAGS if v & bit]
    return ",".join(names) if names else "NONE"


def _m_tcp(opts, proto, proto_neg, table):
    return _m_tcpudp("tcp", opts, proto, proto_neg)


def _m_udp(opts, proto, proto_neg, table):
    return _m_tcpudp("udp", opts, proto, proto_neg)


def icmp_type_of(text: str) -> tuple[int, int, int]:
    name = _ICMP_ALIASES.get(text, text)
    if name in ICMP_TYPES:
        return ICMP_TYPES[name]
    t, s, c = text.partition("/")
    typ = _uint(t, "--icmp-type", 255) if t.isdigit() else None
    if typ is None:
        raise _Err(f"Invalid ICMP type `{text}'")
    if s:
        code = _uint(c, "--icmp-type", 255)
        return typ, code, code
    return typ, 0, 0xFF


def _m_icmp(opts, proto, proto_neg, table):
    if proto != "icmp" or proto_neg:
        raise _Err("ICMP match requires '-p icmp'")
    o = _one(opts, "--icmp-type")
    if o is None:
        typ, lo, hi, neg = 0xFF, 0, 0xFF, False  # "any"
    else:
        (typ, lo, hi), neg = icmp_type_of(o[2][0]), o[0]
    if typ == 0xFF:
        text = "any"
    elif lo != 0 or hi != 0xFF:
        text = f"{typ}/{lo}"
    else:
        text = str(typ)
    return (Option("--icmp-type", (text,), neg),)


def _m_multiport(opts, proto, proto_neg, table):
    if proto not in ("tcp", "udp", "udplite", "sctp", "dccp") or proto_neg:
        raise _Err("multiport needs `-p tcp', `-p udp', `-p udplite', `-p sctp' or "
                   "`-p dccp'")
    if len(opts) != 1:
        raise _Err("multiport can only have one option")
    neg, name, (text,) = opts[0]
    items, count = [], 0
    for part in text.split(","):
        lo, hi = _port_range(part, proto)
        count += 1 if lo == hi else 2
        items.append(_fmt_range(lo, hi))
    if count > 15:
        raise _Err("too many ports specified")
    return (Option(name, (",".join(items),), neg),)


def _m_comment(opts, proto, proto_neg, table):
    o = _one(opts, "--comment")
    if o is None:
        raise _Err("comment: option \"--comment\" must be specified")
    _no_neg(o)
    if len(o[2][0].encode()) > 255:
        raise _Err("comment may not exceed 255 characters")
    return (Option("--comment", o[2]),)


def _m_statistic(opts, proto, proto_neg, table):
    mode = _one(opts, "--mode")
    prob, every, packet = _one(opts, "--probability"), _one(opts, "--every"), _one(opts, "--packet")
    if mode is None:
        raise _Err("statistic: option \"--mode\" must be specified")
    _no_neg(mode)
    m = mode[2][0]
    if m == "random":
        if every or packet:
            raise _Err("statistic: --every/--packet can only be used in nth mode")
        p = 0.0
        neg = False
        if prob is not None:
            try:
                p = float(prob[2][0])
            except ValueError:
                raise _Err("statistic: bad value for option \"--probability\", "
                           "or out of range (0-1).") from None
            if not 0.0 <= p <= 1.0:
                raise _Err("statistic: bad value for option \"--probability\", "
                           "or out of range (0-1).")
            neg = prob[0]
        kept = int(0x80000000 * p + 0.5)  # lround
        kept = min(kept, 0xFFFFFFFF)
        return (Option("--mode", ("random",)),
                Option("--probability", (f"{kept / 0x80000000:.11f}",), neg))
    if m == "nth":
        if prob is not None:
            raise _Err("statistic: --probability can only be used in random mode")
        if every is None or packet is None:
            raise _Err("statistic: option \"--every\" also requires \"--packet\".")
        _no_neg(packet)
        ev = _uint(every[2][0], "--every")
        pk = _uint(packet[2][0], "--packet")
        if ev == 0:
            raise _Err("statistic: bad value for option \"--every\"")
        if pk > ev - 1:
            raise _Err("statistic: --packet can not be bigger than --every")
        return (Option("--mode", ("nth",)), Option("--every", (str(ev),), every[0]),
                Option("--packet", (str(pk),)))
    raise _Err(f"statistic: bad mode \"{m}\"")


def _m_mark(opts, proto, proto_neg, table):
    o = _one(opts, "--mark")
    if o is None:
        raise _Err("mark: option \"--mark\" must be specified")
    v, m = _hexmark(o[2][0], "--mark")
    text = f"{v:#x}" if m is None or m == 0xFFFFFFFF else f"{v:#x}/{m:#x}"
    return (Option("--mark", (text,), o[0]),)


def _types(text: str) -> str:
    bits = set()
    for t in text.split(","):
        if t.upper() not in ADDR_TYPES:
            raise _Err(f"addrtype: unknown address type `{t}'")
        bits.add(t.upper())
    return ",".join(t for t in ADDR_TYPES if t in bits)


def _m_addrtype(opts, proto, proto_neg, table):
    out = []
    for name in ("--src-type", "--dst-type"):
        o = _one(opts, name)
        if o is not None:
            out.append(Option(name, (_types(o[2][0]),), o[0]))
    if not out:
        raise _Err("addrtype: you must specify --src-type or --dst-type")
    lin, lout = _one(opts, "--limit-iface-in"), _one(opts, "--limit-iface-out")
    if lin and lout:
        raise _Err("addrtype: you can't specify both --limit-iface-in and --limit-iface-out")
    for o in (lin, lout):
        if o is not None:
            _no_neg(o)
            out.append(Option(o[1]))
    return tuple(out)


def _states(text: str, allowed: tuple[str, ...], what: str) -> str:
    got = set()
    for s in text.split(","):
        if s.upper() not in allowed:
            raise _Err(f"Bad {what} \"{s}\"")
        got.add(s.upper())
    return ",".join(s for s in allowed if s in got)


def _ct_addr(text: str) -> str:
    net, mask = _parse_net(text)
    return _ntoa(net) if mask == 0xFFFFFFFF else format_net(net, mask)


def _m_conntrack(opts, proto, proto_neg, table):
    seen = set()
    for o in opts:
        if o[1] in seen:
            raise _Err(f"conntrack: option \"{o[1]}\" can only be used once")
        seen.add(o[1])
    by = {o[1]: o for o in opts}
    if not by:
        raise _Err("conntrack: at least one option is required")
    out = []
    order = ("--ctstate", "--ctproto", "--ctorigsrc", "--ctorigdst", "--ctreplsrc",
             "--ctrepldst", "--ctorigsrcport", "--ctorigdstport", "--ctreplsrcport",
             "--ctrepldstport", "--ctstatus", "--ctexpire", "--ctdir")
    for name in order:
        o = by.get(name)
        if o is None:
            continue
        neg, text = o[0], o[2][0]
        if name == "--ctstate":
            val = _states(text, CT_STATES, "ctstate")
        elif name == "--ctproto":
            val = str(parse_proto(text))
        elif name.endswith("port"):
            val = _fmt_range(*_port_range(text, None))
        elif name == "--ctstatus":
            val = _states(text, ("NONE",) + CT_STATUSES, "ctstatus")
            val = ",".join(s for s in val.split(",") if s != "NONE") or "NONE"
        elif name == "--ctexpire":
            a, s, b = text.partition(":")
            lo = _uint(a, name)
            hi = _uint(b, name) if s else lo
            val = _fmt_range(lo, hi)
        elif name == "--ctdir":
            if text.upper() not in ("ORIGINAL", "REPLY"):
                raise _Err(f"conntrack: bad direction \"{text}\"")
            _no_neg(o)
            val = text.upper()
        else:
            val = _ct_addr(text)
        out.append(Option(name, (val,), neg))
    return tuple(out)


def _m_state(opts, proto, proto_neg, table):
    o = _one(opts, "--state")
    if o is None:
        raise _Err("state: option \"--state\" must be specified")
    return (Option("--state", (_states(o[2][0], STATE_STATES, "state"),), o[0]),)


def _m_recent(opts, proto, proto_neg, table):
    modes = [o for o in opts if o[1] in ("--set", "--rcheck", "--update", "--remove")]
    if len(modes) != 1:
        raise _Err("recent: you must specify one of `--set', `--rcheck', `--update' "
                   "or `--remove'")
    mode = modes[0]
    for o in opts:
        if o is not mode:
            _no_neg(o)
    seconds, hit = _one(opts, "--seconds"), _one(opts, "--hitcount")
    reap, rttl = _one(opts, "--reap"), _one(opts, "--rttl")
    if (seconds or hit or reap or rttl) and mode[1] not in ("--rcheck", "--update"):
        raise _Err("recent: --seconds, --hitcount, --reap and --rttl need --rcheck or "
                   "--update")
    if reap and not seconds:
        raise _Err("recent: --reap requires --seconds")
    name = _one(opts, "--name")
    nm = name[2][0] if name else "DEFAULT"
    if not nm or len(nm) > 199 or "/" in nm:
        raise _Err(f"recent: illegal name \"{nm}\"")
    mask = _one(opts, "--mask")
    try:
        mk = _ntoa(_ipv4(mask[2][0])) if mask else "255.255.255.255"
    except ValueError:
        raise _Err(f"recent: bad mask \"{mask[2][0]}\"") from None
    if _one(opts, "--rsource") and _one(opts, "--rdest"):
        raise _Err("recent: only one of --rsource and --rdest")
    out = [Option(mode[1], (), mode[0])]
    if seconds:
        out.append(Option("--seconds", (str(_uint(seconds[2][0], "--seconds")),)))
    if reap:
        out.append(Option("--reap"))
    if hit:
        out.append(Option("--hitcount", (str(_uint(hit[2][0], "--hitcount", 65535)),)))
    if rttl:
        out.append(Option("--rttl"))
    out.append(Option("--name", (nm,)))
    out.append(Option("--mask", (mk,)))
    out.append(Option("--rdest" if _one(opts, "--rdest") else "--rsource"))
    return tuple(out)


def _m_nfacct(opts, proto, proto_neg, table):
    o = _one(opts, "--nfacct-name")
    if o is None:
        raise _Err("nfacct: you must specify `--nfacct-name'")
    _no_neg(o)
    if len(o[2][0]) > 31:
        raise _Err("nfacct: name too long, maximum is 31 characters")
    return (Option("--nfacct-name", o[2]),)


_MATCH_FN = {
    "nfacct": _m_nfacct,
    "tcp": _m_tcp, "udp": _m_udp, "icmp": _m_icmp, "multiport": _m_multiport,
    "comment": _m_comment, "statistic": _m_statistic, "mark": _m_mark,
    "addrtype": _m_addrtype, "conntrack": _m_conntrack, "state": _m_state,
    "recent": _m_recent,
}

# ---------------------------------------------------------------------------
# targets
# ---------------------------------------------------------------------------

_PORT_PROTOS = ("tcp", "udp", "sctp", "dccp", "udplite")


def _nat_range(text: str, proto, proto_neg) -> str:
    addr, s, ports = text.partition(":")
    out = ""
    if addr:
        a, d, b = addr.partition("-")
        try:
            lo = _ipv4(a)
            hi = _ipv4(b) if d else lo
        except ValueError:
            raise _Err(f"Bad IP address \"{addr}\"") from None
        if lo > hi:
            raise _Err(f"Bad IP address range \"{addr}\"")
        out = _ntoa(lo) if lo == hi else f"{_ntoa(lo)}-{_ntoa(hi)}"
    if s:
        if proto not in _PORT_PROTOS or proto_neg:
            raise _Err("Need TCP, UDP, SCTP or DCCP with port specification")
        plo, phi = _port_range(ports, proto, "-")
        if plo == 0:
            raise _Err(f"Port `{ports}' not valid")
        out += ":" + _fmt_range(plo, phi, "-")
    if not out:
        raise _Err(f"Bad IP address \"{text}\"")
    return out


def _t_reject(opts, proto, proto_neg):
    o = _one(opts, "--reject-with")
    with_ = "icmp-port-unreachable"
    if o is not None:
        _no_neg(o)
        if o[2][0] not in REJECT_WITH:
            raise _Err(f"unknown reject type \"{o[2][0]}\"")
        with_ = REJECT_WITH[o[2][0]]
    if with_ == "tcp-reset" and (proto != "tcp" or proto_neg):
        raise _Err("REJECT --reject-with tcp-reset needs -p tcp")
    return (Option("--reject-with", (with_,)),)


def _t_nat(target, opts, proto, proto_neg):
    to = {"DNAT": "--to-destination", "SNAT": "--to-source"}.get(target)
    out = []
    for o in opts:
        _no_neg(o)
    if to is not None:
        o = _one(opts, to)
        if o is None:
            raise _Err(f"{target}: option \"{to}\" must be specified")
        out.append(Option(to, (_nat_range(o[2][0], proto, proto_neg),)))
    else:
        o = _one(opts, "--to-ports")
        if o is not None:
            if proto not in _PORT_PROTOS or proto_neg:
                raise _Err("Need TCP, UDP, SCTP or DCCP with port specification")
            out.append(Option("--to-ports", (_fmt_range(*_port_range(o[2][0], proto, "-"),
                                                        "-"),)))
    for flag in ("--random", "--random-fully", "--persistent"):
        if _one(opts, flag) is not None:
            out.append(Option(flag))
    return tuple(out)


def _t_mark(opts, proto, proto_neg):
    if len(opts) != 1:
        raise _Err("MARK target: exactly one of --set-xmark, --set-mark, --and-mark, "
                   "--or-mark, --xor-mark is required")
    neg, name, (text,) = opts[0]
    if neg:
        raise _Err(f"option \"{name}\" cannot be inverted")
    v, m = _hexmark(text, name)
    if name in ("--and-mark", "--or-mark", "--xor-mark") and m is not None:
        raise _Err(f"MARK: bad value for option \"{name}\"")
    if name == "--set-xmark":
        mark, mask = v, 0xFFFFFFFF if m is None else m
    elif name == "--set-mark":
        mark, mask = v, v | (0xFFFFFFFF if m is None else m)
    elif name == "--and-mark":
        mark, mask = 0, ~v & 0xFFFFFFFF
    elif name == "--or-mark":
        mark, mask = v, v
    else:
        mark, mask = v, 0
    return (Option("--set-xmark", (f"{mark:#x}/{mask:#x}",)),)


def _t_log(opts, proto, proto_neg):
    out = []
    for o in opts:
        _no_neg(o)
    o = _one(opts, "--log-prefix")
    if o is not None:
        if len(o[2][0].encode()) > 29:
            raise _Err("Maximum prefix length 29 for --log-prefix")
        if "\n" in o[2][0]:
            raise _Err("Newlines not allowed in --log-prefix")
        if o[2][0]:
            out.append(Option("--log-prefix", o[2]))
    o = _one(opts, "--log-level")
    if o is not None:
        t = o[2][0]
        if t in _LOG_LEVEL_BY_NAME:
            lvl = _LOG_LEVEL_BY_NAME[t]
        else:
            lvl = _uint(t, "--log-level", 7) if t.isdigit() else None
            if lvl is None:
                raise _Err(f"log-level `{t}' unknown")
        if lvl != 4:
            out.append(Option("--log-level", (str(lvl),)))
    for flag, _, _ in LOG_FLAGS:
        if _one(opts, flag) is not None:
            out.append(Option(flag))
    return tuple(out)


def _t_ct(opts, proto, proto_neg):
    out = []
    for o in opts:
        _no_neg(o)
    if _one(opts, "--notrack"):
        out.append(Option("--notrack"))
    z = _one(opts, "--zone")
    if z is not None:
        out.append(Option("--zone", (str(_uint(z[2][0], "--zone", 65535)),)))
    return tuple(out)


def _t_plain(opts, proto, proto_neg):
    return ()


_TARGET_FN = {
    "REJECT": _t_reject, "MARK": _t_mark, "LOG": _t_log, "CT": _t_ct,
    "DNAT": lambda o, p, n: _t_nat("DNAT", o, p, n),
    "SNAT": lambda o, p, n: _t_nat("SNAT", o, p, n),
    "MASQUERADE": lambda o, p, n: _t_nat("MASQUERADE", o, p, n),
    "ACCEPT": _t_plain, "DROP": _t_plain, "RETURN": _t_plain, "TRACE": _t_plain,
    "NOTRACK": _t_plain,
}

# ---------------------------------------------------------------------------
# one rule
# ---------------------------------------------------------------------------

_MATCH_CACHE: dict = {}
_COMMENT_CACHE: dict = {}
_new = object.__new__
# every field of Rule with its default, in declaration order (see _parse_spec)
_RULE_DEFAULTS = {f.name: f.default for f in fields(Rule)}
_TARGET_CACHE: dict = {}
_CHAIN_TARGET_OPTS: dict = {}  # the (never changed) option table of a jump to a user chain
_PROTO_CACHE: dict[str, str] = {}  # -p argument -> protocol name ("" for all/0)


def _check_iface(name: str) -> str:
    if len(name) >= IFNAMSIZ:
        raise _Err(f"interface name `{name}' must be shorter than IFNAMSIZ (15)")
    if not name:
        raise _Err("empty interface name")
    return name


def _parse_spec(toks, table: str, chain: str, chain_exists, line: int,
                counters: tuple[int, int] = (0, 0), known_chains=()) -> Rule:
    """Parse the words of one rule (after ``-A CHAIN``).  Raises _Err.
    ``chain_exists(name)`` gives an error text for a jump target that is not a chain
    (skipped for names in ``known_chains``)."""
    src = dst = iin = iout = None
    src_neg = dst_neg = in_neg = out_neg = False
    proto = None
    proto_neg = False
    frag = False
    matches: list[list] = []  # [module, [opts]]
    target = None
    target_spec = None
    target_opts: list = []
    goto = False
    packets, bytes_ = counters
    neg = seen_s = seen_d = False
    short_get = _SHORT.get
    i, n = 0, len(toks)
    while i < n:
        t = toks[i]
        i += 1
        if t == "!":
            if neg:
                raise _Err("multiple consecutive ! not allowed")
            neg = True
            continue
        kind = short_get(t)
        if kind is not None:
            if i >= n and kind != "f":
                raise _Err(f"option \"{t}\" requires an argument")
            if kind == "m":
                if neg:
                    raise _Err("unexpected ! flag before --match")
                mod = toks[i]
                i += 1
                if mod not in MATCH_OPTIONS:
                    raise _Err(f"unsupported match \"-m {mod}\"")
                if mod == "comment" and i + 1 < n and toks[i] == "--comment":
                    # fast path for "-m comment --comment X" (what the generic path
                    # does: no target has a --comment option)
                    matches.append([mod, [(False, "--comment", (toks[i + 1],))]])
                    i += 2
                    continue
                matches.append([mod, []])
            elif kind == "j" or kind == "g":
                if neg:
                    raise _Err(f"unexpected ! flag before {t}")
                if target is not None:
                    raise _Err("multiple -j/-g flags not allowed")
                target = toks[i]
                i += 1
                goto = kind == "g"
                if target in TARGET_OPTIONS:
                    if goto:
                        raise _Err(f"-g needs a user chain, not the target {target}")
                    target_spec = TARGET_OPTIONS[target]
                elif target == "QUEUE":
                    raise _Err("target QUEUE is not supported here")
                else:
                    if target in BUILTIN_CHAINS.get(table, ()):
                        raise _Err(f"cannot jump to built-in chain {target}")
                    if chain_exists is not None and target not in known_chains:
                        err = chain_exists(target)
                        if err:
                            raise _Err(err)
                    target_spec = _CHAIN_TARGET_OPTS
            elif kind == "p":
                if proto is not None or proto_neg:
                    raise _Err("multiple -p flags not allowed")
                pname = _PROTO_CACHE.get(toks[i])
                if pname is None:
                    num = parse_proto(toks[i])
                    pname = proto_name(num) if num else ""
                    if len(_PROTO_CACHE) < 1000:
                        _PROTO_CACHE[toks[i]] = pname
                i += 1
                if not pname:
                    if neg:
                        raise _Err("rule would never match protocol")
                else:
                    proto, proto_neg = pname, neg
            elif kind == "s" or kind == "d":
                if (seen_s if kind == "s" else seen_d):
                    raise _Err(f"multiple -{kind} flags not allowed")
                v = _cidr(toks[i])
                i += 1
                if v == "0.0.0.0/0":
                    if neg:  # the kernel refuses it (RULE_APPEND: Invalid argument)
                        raise _Err(f"! -{kind} 0.0.0.0/0 can never match")
                    v = None  # iptables-save drops a match-all address
                if kind == "s":
                    src, src_neg, seen_s = v, neg, True
                else:
                    dst, dst_neg, seen_d = v, neg, True
            elif kind == "i" or kind == "o":
                if (iin if kind == "i" else iout) is not None:
                    raise _Err(f"multiple -{kind} flags not allowed")
                v = _check_iface(toks[i])
                i += 1
                if kind == "i":
                    iin, in_neg = v, neg
                else:
                    iout, out_neg = v, neg
            elif kind == "f":
                raise _Err("fragment matching (-f) is not supported here")
            elif kind == "c":
                if i + 1 >= n:
                    raise _Err("-c requires packet and byte counter")
                try:
                    packets, bytes_ = int(toks[i]), int(toks[i + 1])
                except ValueError:
                    raise _Err("-c packet counter not numeric") from None
                i += 2
            neg = False
            continue
        # an option of a match or the target
        if t[:2] != "--" or len(t) < 3:
            raise _Err(f"Bad argument `{t}'")
        owner = None
        if target_spec is not None and t in target_spec:
            canon, nargs = target_spec[t]
            owner = target_opts
        else:
            k = len(matches)
            while k:  # the latest loaded extension wins (getopt)
                k -= 1
                m = matches[k]
                spec = MATCH_OPTIONS[m[0]].get(t)
                if spec is not None:
                    canon, nargs = spec
                    owner = m[1]
                    break
            else:
                if proto in ("tcp", "udp", "icmp") and not proto_neg:
                    spec = MATCH_OPTIONS[proto].get(t)
                    if spec is not None:
                        canon, nargs = spec
                        m = [proto, []]
                        matches.append(m)
                        owner = m[1]
        if owner is None:
            raise _Err(f"unknown option \"{t}\"")
        if i + nargs > n:
            raise _Err(f"option \"{t}\" requires {'an argument' if nargs == 1 else f'{nargs} arguments'}")
        args = (toks[i],) if nargs == 1 else tuple(toks[i:i + nargs])
        i += nargs
        owner.append((neg, canon, args))
        neg = False
    if neg:
        raise _Err("no option after !")

    mtuple = []
    for mod, opts in matches:
        if mod == "comment" and len(opts) == 1 and not opts[0][0]:
            text = opts[0][2][0]
            hit = _COMMENT_CACHE.get(text)
            if hit is None:
                hit = Match("comment", _m_comment(opts, proto, proto_neg, table))
                if len(_COMMENT_CACHE) < 100_000:
                    _COMMENT_CACHE[text] = hit
            mtuple.append(hit)
            continue
        key = (mod, tuple(opts), proto, proto_neg)
        hit = _MATCH_CACHE.get(key)
        if hit is None:
            hit = Match(mod, _MATCH_FN[mod](opts, proto, proto_neg, table))
            if len(_MATCH_CACHE) < 100_000:
                _MATCH_CACHE[key] = hit
        mtuple.append(hit)
    topts = ()
    if target is not None and target_spec is not _CHAIN_TARGET_OPTS:
        # (a jump to a user chain has no table restriction and no target options)
        need = TARGET_TABLE.get(target)
        if need is not None and need != table:
            raise _Err(f"target {target} can only be used in the {need} table, "
                       f"not in {table}")
        fn = _TARGET_FN.get(target)
        if fn is not None:
            key = (target, tuple(target_opts), proto, proto_neg)
            topts = _TARGET_CACHE.get(key)
            if topts is None:
                topts = fn(target_opts, proto, proto_neg)
                if len(_TARGET_CACHE) < 100_000:
                    _TARGET_CACHE[key] = topts
    # Rule(...) without the frozen dataclass __init__ (which sets each field through
    # object.__setattr__): fill the instance dict from the defaults, then the parsed parts
    rule = _new(Rule)
    d = rule.__dict__
    d.update(_RULE_DEFAULTS)
    d["chain"] = chain
    d["matches"] = tuple(mtuple)
    d["target"] = target
    d["line"] = line
    if topts:
        d["target_options"] = topts
    if proto is not None:
        d["proto"], d["proto_neg"] = proto, proto_neg
    if src is not None:
        d["src"], d["src_neg"] = src, src_neg
    if dst is not None:
        d["dst"], d["dst_neg"] = dst, dst_neg
    if iin is not None:
        d["in_iface"], d["in_neg"] = iin, in_neg
    if iout is not None:
        d["out_iface"], d["out_neg"] = iout, out_neg
    if goto:
        d["goto"] = True
    if packets or bytes_:
        d["packets"], d["bytes"] = packets, bytes_
    return rule


def _rule_text(chain: str, toks) -> str:
    return "-A " + chain + (" " + " ".join(toks) if toks else "")


def parse_rule_args(argv: list[str], table: str, chain: str, *,
                    ruleset: Ruleset | None = None, line: int = 0,
                    source: str | None = None) -> Rule:
    """Parse one rule spec given as shell words (what follows ``iptables -A CHAIN``).

    Same normalisation and errors as :func:`parse_iptables_save`.  With ``ruleset``
    the chain and any jump target must exist in ``ruleset.tables[table]``.
    """
    if table not in TABLES:
        raise IptablesError(f"table name '{table}' invalid", line or None, source)
    exists = None
    if ruleset is not None:
        tbl = ruleset.tables.get(table)
        chains = tbl.chains if tbl is not None else {c: None for c in BUILTIN_CHAINS[table]}
        if chain not in chains:
            raise IptablesError(f"chain '{chain}' does not exist in table {table} "
                                f"(rule \"{_rule_text(chain, argv)}\")", line or None, source)
        exists = _chain_checker(ruleset, table, chains)
    try:
        return _parse_spec(list(argv), table, chain, exists, line)
    except _Err as e:
        raise IptablesError(f"{e} in rule \"{_rule_text(chain, argv)}\"", line or None,
                            source) from None


def _chain_checker(ruleset: Ruleset, table: str, chains):
    def check(name: str) -> str | None:
        if name in chains:
            return None
        others = [t for t, tb in ruleset.tables.items() if t != table and name in tb.chains]
        if others:
            return (f"unknown chain or target \"{name}\" (a chain of table {others[0]}: "
                    f"a rule can only jump to chains of its own table, {table})")
        return f"unknown chain or target \"{name}\""
    return check


# ---------------------------------------------------------------------------
# tokenizer (iptables-restore's add_param_to_argv)
# ---------------------------------------------------------------------------

def tokenize(line: str) -> list[str]:
    """Split a restore line into words the way iptables-restore does: double quotes
    group (a closing quote ends the word), backslash escapes inside quotes, single
    quotes are ordinary characters, an unclosed quote runs to the end of the line."""
    if '"' not in line:
        return line.split()
    nq = 1 if "\\" in line else line.count('"')
    if nq == 2:
        # fast path: one quoted word, no escapes (the loop below, unrolled)
        pre, word, post = line.split('"')
        out = pre.split()
        if pre and not pre[-1].isspace():
            word = out.pop() + word
        out.append(word)
        out += post.split()
        return out
    if not (nq & 1):
        # fast path: balanced quotes, no escapes
        segs = line.split('"')
        out: list[str] = []
        glue = ""
        last = len(segs) - 1
        for k, seg in enumerate(segs):
            if k & 1:
                out.append(glue + seg)
                glue = ""
            else:
                words = seg.split()
                if k < last and words and not seg[-1].isspace():
                    glue = words.pop()
                out.extend(words)
        return out
    return _tokenize_chars(line)


def _tokenize_chars(line: str) -> list[str]:
    """The character-by-character tokenizer (any quoting)."""
    out: list[str] = []
    buf: list[str] = []
    quote = esc = False
    have = False
    for ch in line:
        if quote:
            if esc:
                buf.append(ch)
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                quote = False
                out.append("".join(buf))
                buf = []
                have = False
            else:
                buf.append(ch)
            continue
        if ch == '"':
            quote = True
            have = True
            continue
        if ch in " \t\n\r\v\f":
            if buf:
                out.append("".join(buf))
                buf = []
            have = False
            continue
        buf.append(ch)
    if buf or have:
        out.append("".join(buf))
    return out


# ---------------------------------------------------------------------------
# whole files
# ---------------------------------------------------------------------------

def _counters(text: str) -> tuple[int, int] | None:
    if len(text) < 5 or text[0] != "[" or text[-1] != "]":
        return None
    p, s, b = text[1:-1].partition(":")
    if not s or not p.isdigit() or not b.isdigit():
        return None
    return int(p), int(b)


def _valid_chain_name(name: str) -> str | None:
    if len(name) > MAX_CHAIN_NAME:
        return f"chain name `{name}' too long (must be under {MAX_CHAIN_NAME + 1} chars)"
    if not name or name[0] in "-!" or name in _STD_TARGETS or name in TARGET_OPTIONS:
        return f"invalid chain name `{name}'"
    return None


class _Parser:
    def __init__(self, source: str):
        self.source = source
        self.rs = Ruleset()
        self.table: Table | None = None
        self.tname: str | None = None
        self.table_line = 0
        self.lineno = 0
        self._exists = self.exists
        # The table's jump graph, collected as rules arrive, so COMMIT need not walk
        # every rule again; any flush or delete makes it stale (then COMMIT collects it).
        self.edges: dict[str, list[str]] = {}
        self.restricted: list[tuple[str, Rule]] = []
        self.graph_ok = True

    def err(self, msg: str, line: int | None = None) -> IptablesError:
        return IptablesError(msg, self.lineno if line is None else line, self.source)

    def cur(self) -> Table:
        if self.table is None:
            self.table = self.rs.table(self.tname)
        return self.table

    def run(self, text: str) -> Ruleset:
        lines = text.split("\n")
        command, declare = self.command, self.declare
        for idx, raw in enumerate(lines, 1):
            self.lineno = idx
            line = raw.strip()
            if not line or line[0] == "#":
                continue
            c0 = line[0]
            if c0 == "-" or c0 == "[":
                command(line)
            elif c0 == ":":
                declare(line)
            elif c0 == "*":
                if self.tname is not None:
                    raise self.err(f"table {self.tname} (line {self.table_line}) is not "
                                   f"finished with COMMIT before the next table")
                name = line[1:].strip()
                if name not in TABLES:
                    raise self.err(f"table name '{name}' invalid")
                self.tname, self.table_line, self.table = name, idx, None
                self.edges, self.restricted, self.graph_ok = {}, [], True
                self.rs.tables.pop(name, None)  # a table section replaces the table
            elif line == "COMMIT" or (line.startswith("COMMIT") and line[6:7] in " \t#"):
                if self.tname is None:
                    raise self.err("COMMIT outside a table")
                if self.table is not None:
                    validate_table(self.table, self.source,
                                   (self.edges, self.restricted) if self.graph_ok else None)
                self.tname = self.table = None
            else:
                raise self.err(f"Bad line \"{line}\"")
        if self.tname is not None:
            raise self.err(f"COMMIT expected: table {self.tname} (line {self.table_line}) "
                           f"is not committed", len(lines) if lines[-1] else len(lines) - 1)
        return self.rs

    def need_table(self, line: str) -> None:
        if self.tname is None:
            raise self.err(f"no table specified (\"*filter\" etc.) before \"{line}\"")

    def declare(self, line: str) -> None:
        self.need_table(line)
        parts = line[1:].split()
        if len(parts) == 3 and parts[1] == "-" and parts[2] == "[0:0]":
            # fast path: ":NAME - [0:0]" of a valid user chain (the same steps as below)
            name = parts[0]
            if name not in BUILTIN_CHAINS[self.tname] and _valid_chain_name(name) is None:
                chains = (self.table or self.cur()).chains
                ch = chains.get(name)
                if ch is not None:
                    self.flushed(ch)  # declaring an existing chain again flushes it
                else:
                    chains[name] = ch = Chain(name)
                ch.packets, ch.bytes = 0, 0
                return
        if not parts:
            raise self.err("empty chain name")
        name = parts[0]
        policy = parts[1] if len(parts) > 1 else None
        cnt = None
        if len(parts) == 3:
            p2 = parts[2]
            cnt = (0, 0) if p2 == "[0:0]" else _counters(p2)
            if cnt is None:
                raise self.err(f"bad chain declaration \"{line}\"")
        elif len(parts) > 3:
            raise self.err(f"bad chain declaration \"{line}\"")
        t = self.cur()
        builtin = name in BUILTIN_CHAINS[self.tname]
        if builtin:
            if policy not in ("ACCEPT", "DROP"):
                if policy == "-" or policy is None:
                    policy = "ACCEPT"
                else:
                    raise self.err(f"Bad policy name \"{policy}\" for chain {name}")
            ch = t.chains[name]
            ch.policy = policy
            if cnt:
                ch.packets, ch.bytes = cnt
            return
        if policy not in (None, "-", "ACCEPT", "DROP"):
            raise self.err(f"Bad policy name \"{policy}\" for chain {name}")
        bad = _valid_chain_name(name)
        if bad:
            raise self.err(bad)
        ch = t.chains.get(name)
        if ch is not None:
            self.flushed(ch)  # declaring an existing chain again flushes it
        else:
            t.chains[name] = ch = Chain(name)
        if cnt:
            ch.packets, ch.bytes = cnt

    def command(self, line: str) -> None:
        if self.tname is None:
            self.need_table(line)
        toks = tokenize(line)
        if len(toks) > 1 and toks[0] == "-A":
            # fast path: "-A CHAIN ..." to an existing chain (the same steps as below)
            chain = toks[1]
            ch = (self.table or self.cur()).chains.get(chain)
            if ch is not None:
                chains = self.table.chains
                try:
                    rule = _parse_spec(toks[2:], self.tname, chain, self._exists,
                                       self.lineno, (0, 0), chains)
                except _Err as e:
                    raise self.err(f"{e} in rule \"{line}\"") from None
                ch.rules.append(rule)
                tg = rule.target  # (inlined self.note_jump: this path runs per rule)
                if tg is not None:
                    if tg in chains:
                        out = self.edges.get(chain)
                        if out is None:
                            self.edges[chain] = [tg]
                        else:
                            out.append(tg)
                    elif tg in TARGET_HOOKS:
                        self.restricted.append((chain, rule))
                return
        counters = (0, 0)
        if toks and toks[0][0] == "[":
            cnt = _counters(toks[0])
            if cnt is None:
                raise self.err(f"Bad counters \"{toks[0]}\"")
            counters = cnt
            toks = toks[1:]
        if not toks:
            raise self.err("empty command")
        cmd = toks[0]
        t = self.table or self.cur()
        if cmd == "-A" or cmd in ("--append", "-I", "--insert"):
            if len(toks) < 2:
                raise self.err(f"option \"{cmd}\" requires a chain name")
            chain = toks[1]
            spec = toks[2:]
            pos = None
            if cmd != "-A" and cmd in ("-I", "--insert") and spec and spec[0].isdigit():
                pos = int(spec[0])
                spec = spec[1:]
            ch = t.chains.get(chain)
            if ch is None:
                raise self.err(f"chain '{chain}' does not exist in table {self.tname} "
                               f"(rule \"{line}\")")
            try:
                rule = _parse_spec(spec, self.tname, chain, self._exists, self.lineno,
                                   counters, t.chains)
            except _Err as e:
                raise self.err(f"{e} in rule \"{line}\"") from None
            if pos is None:
                if cmd in ("-A", "--append"):
                    ch.rules.append(rule)
                else:
                    ch.rules.insert(0, rule)
            else:
                if pos < 1 or pos > len(ch.rules) + 1:
                    raise self.err(f"Index of insertion too big ({pos}) in \"{line}\"")
                ch.rules.insert(pos - 1, rule)
            self.note_jump(chain, rule, t.chains)
            return
        args = toks[1:]
        if cmd in ("-N", "--new-chain"):
            if len(args) != 1:
                raise self.err(f"bad command \"{line}\"")
            bad = _valid_chain_name(args[0])
            if bad:
                raise self.err(bad)
            if args[0] in t.chains:
                raise self.err(f"Chain already exists: {args[0]}")
            t.chains[args[0]] = Chain(args[0])
        elif cmd in ("-X", "--delete-chain"):
            names = args or [c for c, ch in t.chains.items() if not ch.builtin]
            for name in names:
                ch = t.chains.get(name)
                if ch is None:
                    raise self.err(f"Chain '{name}' does not exist")
                if ch.builtin:
                    raise self.err(f"Cannot delete built-in chain {name}")
                if ch.rules:  # nf_tables: CHAIN_DEL failed (Device or resource busy)
                    raise self.err(f"Cannot delete chain {name}: it still has rules "
                                   f"(flush it with -F first)")
                refs = [r for c in t.chains.values() for r in c.rules if r.target == name]
                if refs:
                    raise self.err(f"Cannot delete chain {name}: it is referenced by "
                                   f"\"{render_rule_text(refs[0])}\"")
            for name in names:  # nf_tables deletes a non-empty unreferenced chain too
                self.flushed(t.chains.pop(name))
        elif cmd in ("-F", "--flush"):
            if len(args) > 1:
                raise self.err(f"bad command \"{line}\"")
            if args:
                if args[0] not in t.chains:
                    raise self.err(f"Chain '{args[0]}' does not exist")
                self.flushed(t.chains[args[0]])
            else:
                for ch in t.chains.values():
                    self.flushed(ch)
        elif cmd in ("-Z", "--zero"):
            for ch in t.chains.values():
                if not args or ch.name in args:
                    ch.packets = ch.bytes = 0
        elif cmd in ("-P", "--policy"):
            if len(args) != 2:
                raise self.err(f"bad command \"{line}\"")
            ch = t.chains.get(args[0])
            if ch is None or not ch.builtin:
                raise self.err(f"-P needs a built-in chain, not \"{args[0]}\"")
            if args[1] not in ("ACCEPT", "DROP"):
                raise self.err(f"Bad policy name \"{args[1]}\"")
            ch.policy = args[1]
        else:
            raise self.err(f"unknown command \"{cmd}\" in \"{line}\"")

    def note_jump(self, chain: str, rule: Rule, chains) -> None:
        """Add a new rule's edge (or its hook-restricted target) to the table's graph."""
        tg = rule.target
        if tg is None:
            return
        if tg in chains:
            self.edges.setdefault(chain, []).append(tg)
        elif tg in TARGET_HOOKS:
            self.restricted.append((chain, rule))

    def flushed(self, ch: Chain) -> None:
        """A chain loses its rules: the graph collected so far no longer holds."""
        if ch.rules:
            ch.rules.clear()
            self.graph_ok = False

    def exists(self, name: str) -> str | None:
        t = self.table
        if name in t.chains:
            return None
        return _chain_checker(self.rs, self.tname, t.chains)(name)


def render_rule_text(rule: Rule) -> str:
    from .render import render_rule
    return render_rule(rule)


def validate_table(t: Table, source: str | None = None,
                   graph: tuple[dict[str, list[str]], list[tuple[str, Rule]]] | None = None
                   ) -> None:
    """What the kernel checks when the table is committed: no chain loop reachable
    from a built-in chain (ELOOP), NAT targets only reached from hooks that allow them.

    ``graph`` is the table's jumps (chain -> user chains it jumps to, one entry per rule)
    and its rules with hook-restricted targets, when the caller collected them already."""
    # Fast path: one topological sort over the whole chain graph, with the hook sets
    # propagated in the same pass.  A loop anywhere (even in a part no built-in chain
    # reaches) falls back to the exact check over the reachable part, so the outcome is
    # the same.
    chains = t.chains
    indeg = dict.fromkeys(chains, 0)
    if graph is None:
        edges: dict[str, list[str]] = {}
        restricted: list[tuple[str, Rule]] = []
        hook_targets = TARGET_HOOKS
        for name, ch in chains.items():
            rules = ch.rules
            if not rules:
                continue
            out = [tg for r in rules if (tg := r.target) in chains]
            if out:
                edges[name] = out
                for tg in out:
                    indeg[tg] += 1
            if len(out) != len(rules):
                for r in rules:
                    tg = r.target
                    if tg not in chains and tg in hook_targets:
                        restricted.append((name, r))
    else:
        edges, restricted = graph
        for out in edges.values():
            for tg in out:
                indeg[tg] += 1
    builtins = [b for b in BUILTIN_CHAINS.get(t.name, ()) if b in chains]
    order = [c for c, d in indeg.items() if d == 0]
    # which built-in chains reach each chain; the sets are shared until they differ
    # (a kube-proxy dump has tens of thousands of chains, nearly all reached the same way)
    hooks: dict[str, frozenset[str]] = {b: frozenset((b,)) for b in builtins}
    track = bool(restricted)
    k = 0
    while k < len(order):
        c = order[k]
        k += 1
        out = edges.get(c)
        if out is None:
            continue
        mine = hooks.get(c) if track else None
        for tg in out:
            d = indeg[tg] - 1
            indeg[tg] = d
            if d == 0:
                order.append(tg)
            if mine:
                h = hooks.get(tg)
                if h is None:
                    hooks[tg] = mine
                elif h is not mine and not mine <= h:
                    hooks[tg] = h | mine
    if len(order) != len(indeg):
        _validate_reachable(t, source)
        return
    for name, r in restricted:
        reached = hooks.get(name)
        if not reached or reached <= _TARGET_HOOK_SETS[r.target]:
            continue
        if graph is not None:  # report the same rule as a check from the chains would
            validate_table(t, source)
        allowed = TARGET_HOOKS[r.target]
        for b in builtins:
            if b not in allowed and b in reached:
                raise IptablesError(
                    f"target {r.target} is not allowed in the {b} hook (chain {name} "
                    f"is reached from {b}; {r.target} only works from "
                    f"{'/'.join(allowed)}) in rule \"{render_rule_text(r)}\"",
                    r.line or None, source)


def _validate_reachable(t: Table, source: str | None = None) -> None:
    """What the kernel checks when the table is committed: no chain loop reachable
    from a built-in chain (ELOOP), NAT targets only reached from hooks that allow them."""
    chains = t.chains
    edges: dict[str, list[str]] = {}
    restricted: list[tuple[str, Rule]] = []
    for name, ch in chains.items():
        out = None
        for r in ch.rules:
            tg = r.target
            if tg in chains:
                if out is None:
                    out = edges[name] = [tg]
                else:
                    out.append(tg)
            elif tg in TARGET_HOOKS:
                restricted.append((name, r))
    builtins = [b for b in BUILTIN_CHAINS.get(t.name, ()) if b in chains]
    # everything reachable from a built-in chain, with in-degrees inside that part
    indeg = dict.fromkeys(builtins, 0)
    stack = list(builtins)
    while stack:
        for tg in edges.get(stack.pop(), ()):
            d = indeg.get(tg)
            if d is None:
                indeg[tg] = 1
                stack.append(tg)
            else:
                indeg[tg] = d + 1
    # Kahn: a topological order exists unless there is a loop
    order = [c for c, d in indeg.items() if d == 0]
    k = 0
    while k < len(order):
        for tg in edges.get(order[k], ()):
            d = indeg[tg] - 1
            indeg[tg] = d
            if d == 0:
                order.append(tg)
        k += 1
    if len(order) != len(indeg):
        _raise_loop({c for c, d in indeg.items() if d > 0}, chains, source)
    if not restricted:
        return
    # which built-in chains reach each chain; the sets are shared until they differ
    # (a kube-proxy dump has tens of thousands of chains, nearly all reached the same way)
    hooks: dict[str, frozenset[str]] = {b: frozenset((b,)) for b in builtins}
    for c in order:
        mine = hooks.get(c)
        if mine:
            for tg in edges.get(c, ()):
                h = hooks.get(tg)
                if h is None:
                    hooks[tg] = mine
                elif not mine <= h:
                    hooks[tg] = h | mine
    for name, r in restricted:
        allowed = TARGET_HOOKS[r.target]
        reached = hooks.get(name)
        if not reached or reached.issubset(allowed):
            continue
        for b in builtins:
            if b not in allowed and b in reached:
                raise IptablesError(
                    f"target {r.target} is not allowed in the {b} hook (chain {name} "
                    f"is reached from {b}; {r.target} only works from "
                    f"{'/'.join(allowed)}) in rule \"{render_rule_text(r)}\"",
                    r.line or None, source)


def _raise_loop(cyclic: set[str], chains, source) -> None:
    """Find one loop among ``cyclic`` chains and raise for the rule closing it."""
    # every chain left over by Kahn has a caller among them: walk callers backwards
    preds: dict[str, list[str]] = {}
    for c in sorted(cyclic):
        for r in chains[c].rules:
            if r.target in cyclic:
                preds.setdefault(r.target, []).append(c)
    start = min(cyclic)
    path, pos = [start], {start: 0}
    while True:
        prv = preds[path[-1]][0]
        if prv in pos:
            cyc = (path[pos[prv]:] + [prv])[::-1]
            break
        pos[prv] = len(path)
        path.append(prv)
    loop_rules = [r for a, z in zip(cyc, cyc[1:]) for r in chains[a].rules if r.target == z]
    worst = max(loop_rules, key=lambda r: r.line)
    raise IptablesError(
        f"chain loop {' -> '.join(cyc)} (Too many links) in rule "
        f"\"{render_rule_text(worst)}\"", worst.line or None, source)


def parse_iptables_save(text: str, source: str = "<input>") -> Ruleset:
    """Parse ``iptables-restore`` input or ``iptables-save`` output into a Ruleset
    normalised as the kernel stores it.  Raises IptablesError (``source:line: msg``)."""
    enabled = gc.isenabled()
    gc.disable()  # a big dump makes ~10^6 objects; cyclic GC passes would dominate
    try:
        parser = _Parser(source)
        try:
            ruleset = parser.run(text)
        finally:
            # _Parser keeps a bound method of itself (a reference cycle): break it, so the
            # parser is freed now and not kept alive by the freeze below
            parser.__dict__.pop("_exists", None)
            del parser
        if len(text) > 1_000_000:
            # The rules of a big dump live as long as the ruleset and hold no cycles worth
            # collecting: move them out of the collector's sight, so later full
            # collections (while tracing packets) do not walk a million objects each time.
            gc.freeze()
        return ruleset
    finally:
        if enabled:
            gc.enable()
