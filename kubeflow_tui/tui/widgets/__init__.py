"""Small reusable widgets; each draws one aspect of a Trace step.

The names below are imported on first use: the flow screen's first frame needs only some
of the modules (the hidden panels are made after it).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kubeflow_tui.tui.widgets.chain_walk import ChainWalk
    from kubeflow_tui.tui.widgets.conntrack_table import ConntrackTable
    from kubeflow_tui.tui.widgets.narration import Narration
    from kubeflow_tui.tui.widgets.packet_header import PacketHeader

_MODULES = {"ChainWalk": "chain_walk", "ConntrackTable": "conntrack_table", "Narration": "narration",
            "PacketHeader": "packet_header"}

__all__ = ["ChainWalk", "ConntrackTable", "Narration", "PacketHeader"]


def __getattr__(name: str) -> Any:
    if name in _MODULES:
        return getattr(import_module(f"{__name__}.{_MODULES[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
