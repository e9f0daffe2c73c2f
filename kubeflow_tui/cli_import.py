"""``kubeflow-tui import``: a scenario from ``kubectl get … -o yaml|json``, and with
``--iptables-save`` (``--nft-ruleset``) a node's real rules compared with what kube-proxy
should have written; ``kubeflow-tui open-dump``: a node's dump in the app.

Exit codes: 0 written (and, with a dump, no difference), 1 the dump differs from what
kube-proxy writes, 2 a problem with the input (one line, ``file:line:col``; nothing is
written).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

EXIT_DIFFERENT = 1

DUMP_HINT = "kubectl get nodes,pods,services,endpointslices -A -o yaml > cluster.yaml"


def add_parser(sub, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "import", parents=[common],
        help="make a scenario from kubectl's output (and compare a node's iptables-save)",
        description="Make a scenario from what `kubectl get nodes,pods,services,endpointslices "
        "-A -o yaml` (or -o json) prints: a List, several files, or '-' for stdin. Flows are "
        "generated for every Service port. With --iptables-save (or, for a node in nftables mode, "
        "--nft-ruleset), show what kube-proxy should have written on --node next to what the dump "
        "holds (exit 1 when they differ).",
        epilog=f"Example: {DUMP_HINT}; kubeflow-tui import cluster.yaml -o mine.yaml",
    )
    p.add_argument("files", nargs="+", metavar="FILE", help="kubectl output ('-' = stdin)")
    p.add_argument("-o", "--output", metavar="SCENARIO",
                   help="write the scenario here (default: stdout, unless --iptables-save)")
    p.add_argument("--name", help="the scenario's name (default: the output file's stem)")
    p.add_argument("--cluster-cidr", metavar="CIDR",
                   help="kube-proxy's --cluster-cidr (default: from the dump's rules, the "
                   "controller manager's flags, or the nodes' podCIDRs)")
    p.add_argument("--service-cidr", metavar="CIDR",
                   help="the Service range (default: the API server's flag, or 10.96.0.0/12)")
    p.add_argument("--iptables-save", metavar="DUMP",
                   help="a node's iptables-save output to compare with kube-proxy's rules")
    p.add_argument("--nft-ruleset", metavar="DUMP",
                   help="a node's `nft list ruleset` output (kube-proxy in nftables mode) to compare with "
                   "the table kube-proxy should have written: rules, set and map elements")
    p.add_argument("--node", metavar="NAME", help="the node the dump comes from")
    p.add_argument("-q", "--quiet", action="store_true", help="do not list the warnings and notes")


def _cidr(text: str | None, flag: str) -> str | None:
    import ipaddress

    from kubeflow_tui.cli import CliError

    if text is None:
        return None
    try:
        return str(ipaddress.IPv4Network(text, strict=False))
    except ValueError:
        raise CliError(f"{flag}: {text!r} is not an IPv4 CIDR, e.g. 10.244.0.0/16") from None


def write_atomic(path: str, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder: a reader
    (or a failure half-way) never sees half a scenario."""
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    try:
        mask = os.umask(0)
        os.umask(mask)
        os.fchmod(fd, 0o666 & ~mask)  # as open() would create it, not mkstemp's 0600
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def cmd_import(args: argparse.Namespace) -> int:
    from kubeflow_tui.cli import PROG, CliError
    from kubeflow_tui.importer import DumpError, build_scenario, read_inputs, render
    from kubeflow_tui.importer.diff import (
        diff_nft_tables,
        diff_rulesets,
        dump_cluster_cidr,
        dump_nft_cluster_cidr,
        render_diff,
    )

    if args.iptables_save and args.nft_ruleset:
        raise CliError("give --iptables-save or --nft-ruleset (one node's dump in one mode), not both")
    dump_flag = "--iptables-save" if args.iptables_save else "--nft-ruleset"
    dump_path = args.iptables_save or args.nft_ruleset
    if args.node and not dump_path:
        raise CliError("--node goes with --iptables-save or --nft-ruleset (the node the dump comes from)")
    if dump_path and not args.node:
        raise CliError(f"{dump_flag} needs --node NAME: the node the dump comes from")
    if dump_path == "-" and "-" in args.files:
        raise CliError("stdin ('-') can feed the kubectl output or the dump, not both")
    cluster_cidr = _cidr(args.cluster_cidr, "--cluster-cidr")
    service_cidr = _cidr(args.service_cidr, "--service-cidr")
    name = args.name or (Path(args.output).stem if args.output else "imported")

    try:
        objs = read_inputs(args.files)
        dump_rs = None
        dump_nft = None
        from_dump = None
        if args.nft_ruleset:
            dump_nft, dump_src = _read_nft_dump(args.nft_ruleset)
            from_dump = dump_nft_cluster_cidr(dump_nft)
        if args.iptables_save:
            from kubeflow_tui.netfilter import parse_iptables_save

            from kubeflow_tui.importer.opendump import _as_dump_error
            from kubeflow_tui.importer.read import read_source

            dump_src, dump_text = read_source(args.iptables_save, what="iptables-save output")
            if dump_text.lstrip().startswith("table "):
                raise DumpError(dump_src, "this is `nft list ruleset` output: compare it with "
                                "--nft-ruleset", 1, 1)
            try:
                dump_rs = parse_iptables_save(dump_text, source=dump_src)
            except ValueError as e:
                raise _as_dump_error(dump_src, str(e)) from None
            from_dump = dump_cluster_cidr(dump_rs)
        result = build_scenario(objs, name=_label(name), cluster_cidr=cluster_cidr,
                                service_cidr=service_cidr, dump_cluster_cidr=from_dump)
    except DumpError as e:
        raise CliError(str(e)) from None

    if not args.quiet:
        for w in result.warnings:
            print(f"{PROG}: warning: {w}", file=sys.stderr)
        for n in result.notes:
            print(f"{PROG}: note: {n}", file=sys.stderr)

    sources = ", ".join("<stdin>" if f == "-" else Path(f).name for f in args.files)
    comments = [
        "yaml-language-server: $schema=./scenario.schema.json",
        "(create the schema beside it with: kubeflow-tui schema -o scenario.schema.json)",
        "",
        f"Imported by kubeflow-tui import from {sources}.",
    ]
    if result.warnings:
        comments.append(f"{len(result.warnings)} warning(s): objects or fields a scenario cannot "
                        "hold were left out; run the import again to read them.")
    text = render(result.data, comments)
    too_big = _loader_limits(result.data, text)
    if too_big:
        print(f"{PROG}: warning: {too_big}", file=sys.stderr)

    status = 0
    diff_text = None
    if dump_rs is not None:
        from kubeflow_tui.kubeproxy import generate_restore
        from kubeflow_tui.netfilter import parse_iptables_save

        node = _node_name(result, args.node)
        expected = parse_iptables_save(generate_restore(result.scenario, node),
                                       source=f"{node} (kube-proxy)")
        d = diff_rulesets(expected, dump_rs)
        diff_text = render_diff(d, node, args.iptables_save if args.iptables_save != "-"
                                else "<stdin>", result.left_out)
        status = 0 if d.same else EXIT_DIFFERENT
    if dump_nft is not None:
        from kubeflow_tui.kubeproxy import nft_transaction

        node = _node_name(result, args.node)
        from kubeflow_tui.netfilter.nft_list import render_nft_table
        from kubeflow_tui.netfilter.nft_parse import parse_nft_ruleset

        # both sides as `nft list ruleset` prints them (the listing form of every rule)
        expected = parse_nft_ruleset(render_nft_table(nft_transaction(result.scenario, node).apply()),
                                     source=f"{node} (kube-proxy)")[0]
        d = diff_nft_tables(expected, dump_nft, _ip_owners(result.scenario))
        diff_text = render_diff(d, node, args.nft_ruleset if args.nft_ruleset != "-" else "<stdin>",
                                result.left_out, counted="rules and set/map elements of table ip kube-proxy")
        status = 0 if d.same else EXIT_DIFFERENT

    if args.output:
        write_atomic(args.output, text)
    elif diff_text is None:
        sys.stdout.write(text)
    if diff_text is not None:
        sys.stdout.write(diff_text)
    s = result.scenario
    summary = (f"imported {len(s.cluster.nodes)} nodes, {len(s.pods)} pods, "
               f"{len(s.services)} Services, {len(s.flows)} flows")
    told = [f"{len(x)} {what}" for x, what in ((result.warnings, "warnings"), (result.notes, "notes")) if x]
    if told:
        summary += f" ({', '.join(told)}{', not listed' if args.quiet else ''})"
    if args.output:
        summary += f" -> {args.output}"
    elif diff_text is not None:
        summary += " (no -o: the scenario was not written)"
    print(f"{PROG}: {summary}", file=sys.stderr)
    return status


def _read_nft_dump(path: str):
    """The ``ip kube-proxy`` table of a node's ``nft list ruleset`` (DumpError where it is wrong)."""
    from kubeflow_tui.importer import DumpError
    from kubeflow_tui.importer.opendump import _as_dump_error
    from kubeflow_tui.importer.read import read_source
    from kubeflow_tui.netfilter.nft_parse import NftParseError, parse_nft_ruleset

    source, text = read_source(path, what="nft list ruleset output")
    first = next((ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#")), "")
    if first.startswith(("*", ":")):
        raise DumpError(source, "this is iptables-save output: compare it with --iptables-save", 1, 1)
    try:
        tables = parse_nft_ruleset(text, source=source)
    except NftParseError as e:
        raise _as_dump_error(source, str(e)) from None
    ours = [t for t in tables if (t.family, t.name) == ("ip", "kube-proxy")]
    if not ours:
        listed = ", ".join(f"{t.family} {t.name}" for t in tables) or "none"
        raise DumpError(source, f"no table ip kube-proxy in this listing (tables: {listed}); is kube-proxy "
                        "running in nftables mode on that node?", 1, 1)
    return ours[0], source


def _ip_owners(scenario) -> dict[str, str]:
    """Cluster, external and load balancer IPs -> ``ns/name`` (the owners of set elements)."""
    out: dict[str, str] = {}
    for s in scenario.services:
        key = f"{s.namespace}/{s.name}"
        for ip in [s.clusterIP, *(getattr(s, "externalIPs", None) or []), getattr(s, "loadBalancerIP", None)]:
            if ip:
                out.setdefault(str(ip), key)
    return out


def _count_values(v) -> int:
    if isinstance(v, dict):
        return 1 + sum(1 + _count_values(x) for x in v.values())
    if isinstance(v, list):
        return 1 + sum(_count_values(x) for x in v)
    return 1


def _loader_limits(data: dict, text: str) -> str | None:
    """Why the scenario loader (and so the app and validate) would refuse this scenario."""
    from kubeflow_tui.scenario import MAX_BYTES, MAX_NODES

    size = len(text.encode("utf-8"))
    values = _count_values(data)
    if size <= MAX_BYTES and values <= MAX_NODES:
        return None
    what = (f"{size:,} bytes (the limit is {MAX_BYTES:,})" if size > MAX_BYTES
            else f"{values:,} YAML values (the limit is {MAX_NODES:,})")
    return (f"the scenario has {what}: the app and `validate` will not open it; import a "
            "part of the cluster (kubectl get … -n NAMESPACE, with the nodes)")


def _label(name: str) -> str:
    from kubeflow_tui.importer.build import _label_name

    return _label_name(name)


def _node_name(result, wanted: str) -> str:
    from kubeflow_tui.cli import CliError

    names = [n.name for n in result.scenario.cluster.nodes]
    if wanted in names:
        return wanted
    from kubeflow_tui.importer.build import _label_name

    if _label_name(wanted) in names:
        return _label_name(wanted)
    raise CliError(f"--node: no node {wanted!r} was imported; nodes: {', '.join(names)}")


# ----------------------------------------------------------------------------- open-dump


def add_open_dump_parser(sub, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "open-dump", parents=[common],
        help="open a node's iptables-save (or nft list ruleset) in the app and play packets through it",
        description="Open a real node's `iptables-save` output (with --nft-ruleset: its `nft list ruleset`) "
        "in the app: pick a destination its kube-proxy rules answer, or type a packet (source, "
        "destination IP:PORT, protocol), and step through it with every panel of the flow screen. "
        "With --conntrack, the node's `conntrack -L` output: a packet of a connection it lists takes "
        "the conntrack path (no nat table; the entry's NAT).",
        epilog="Example: on the node, `iptables-save > node.save; conntrack -L > ct.txt`; then "
        "kubeflow-tui open-dump node.save --conntrack ct.txt",
    )
    p.add_argument("dump", metavar="DUMP", help="the node's iptables-save output ('-' = stdin)")
    p.add_argument("--nft-ruleset", action="store_true",
                   help="DUMP is `nft list ruleset` output (kube-proxy in nftables mode)")
    p.add_argument("--conntrack", metavar="FILE", help="the node's `conntrack -L` output")
    p.add_argument("--node-ip", metavar="IP",
                   help="the node's address (default: nftables: the set nodeport-ips; else 192.168.1.10)")


def cmd_open_dump(args: argparse.Namespace) -> int:
    from kubeflow_tui.cli import CliError, no_color_wanted
    from kubeflow_tui.importer import DumpError
    from kubeflow_tui.importer.opendump import load_node_dump

    if args.dump == "-" and args.conntrack == "-":
        raise CliError("stdin ('-') can feed the dump or the conntrack table, not both")
    try:
        dump = load_node_dump(args.dump, nft=args.nft_ruleset, conntrack=args.conntrack, node_ip=args.node_ip)
    except DumpError as e:
        raise CliError(str(e)) from None
    if "-" in (args.dump, args.conntrack) and not sys.stdin.isatty():
        try:  # the app reads keys from the terminal, not the pipe that fed the dump
            fd = os.open("/dev/tty", os.O_RDONLY)
            os.dup2(fd, 0)
            os.close(fd)
        except OSError:
            raise CliError("the app needs a terminal: the dump came on stdin and there is no /dev/tty") from None
    if no_color_wanted(args):
        os.environ["NO_COLOR"] = "1"
    from kubeflow_tui.tui.screens.open_dump import run_dump_app

    return run_dump_app(dump)
