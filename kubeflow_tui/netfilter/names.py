"""What this machine's iptables 1.8.9 knows by name: tables, protocols, services, ICMP
types, TCP flags, conntrack states, and the options each match and target takes.
Stdlib only; the parser (:mod:`.spec`, :mod:`.parse`) and the printer (:mod:`.render`)
read these tables."""

from __future__ import annotations


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
    "sctp": dict(_PORT_OPTS),
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
