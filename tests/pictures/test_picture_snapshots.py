"""SVG snapshots of each picture widget at 80x24 and 120x40 for clusterip, nodeport, both
load-balancer styles and hairpin.  Regenerate with ``pytest tests/pictures --snapshot-update``
and look at the SVGs under ``__snapshots__/`` before committing them."""

from __future__ import annotations

import pytest

from harness import PictureApp
from picture_traces import FLOWS, trace_of

SIZES = [(80, 24), (120, 40)]


def _first(trace, pred, after: int = -1) -> int:
    return next(s.index for s in trace.steps if s.index > after and pred(s))


def step_for(widget: str, name: str, flow: str) -> int:
    """A step worth a picture: where the NAT happens, or the reply being un-NATed."""
    t = trace_of(name, flow)
    dnat = _first(t, lambda s: s.kind == "dnat")
    if widget == "wire":  # the packet on the first link after the DNAT, already rewritten
        return _first(t, lambda s: s.kind == "link", dnat)
    if widget == "pipeline":
        kinds = {s.kind for s in t.steps}
        return _first(t, lambda s: s.kind == ("masquerade" if "masquerade" in kinds else "dnat"))
    # header card and ladder: conntrack turns the reply's source back (un-DNAT)
    return _first(t, lambda s: s.kind == "conntrack-reverse" and "src" in s.changed)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("key", sorted(FLOWS))
@pytest.mark.parametrize("widget", ["wire", "pipeline", "header", "ladder"])
def test_picture_snapshot(snap_compare, widget, key, size):
    name, flow = FLOWS[key]
    assert snap_compare(PictureApp(widget, name, flow, step_for(widget, name, flow)), terminal_size=size)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("key", ["clusterip", "lb-direct"])
def test_wire_snapshot_mid_move(snap_compare, key, size):
    """Half way along the link after the DNAT: the path so far heavy, the packet tagged."""
    name, flow = FLOWS[key]
    assert snap_compare(PictureApp("wire", name, flow, step_for("wire", name, flow), progress=0.5),
                        terminal_size=size)
