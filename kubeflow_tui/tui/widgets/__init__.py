"""Small reusable widgets; each draws one aspect of a Trace step."""

from kubeflow_tui.tui.widgets.chain_walk import ChainWalk
from kubeflow_tui.tui.widgets.conntrack_table import ConntrackTable
from kubeflow_tui.tui.widgets.narration import Narration
from kubeflow_tui.tui.widgets.packet_header import PacketHeader
from kubeflow_tui.tui.widgets.topology import Topology

__all__ = ["ChainWalk", "ConntrackTable", "Narration", "PacketHeader", "Topology"]
