"""The flow screen, by concept: ``screen`` (the state, the keys, the engine workers),
``view`` (the panels that draw a step), ``predict`` (predict mode's state), ``messages``
(what the workers send back).  The lesson screen (``screens.lesson``) builds on it."""

from kubeflow_tui.tui.screens.flow.screen import SPEEDS, FlowScreen
from kubeflow_tui.tui.screens.flow.view import PANEL_TITLES, PANELS, FlowView

__all__ = ["PANELS", "PANEL_TITLES", "SPEEDS", "FlowScreen", "FlowView"]
