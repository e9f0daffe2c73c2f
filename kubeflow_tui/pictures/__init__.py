"""Pictures of a packet's journey, computed from a Trace (no textual here).

- :mod:`.wire`: the topology with its links and the packet travelling along them;
- :mod:`.pipeline`: the netfilter hooks of the current host, current hook and table lit;
- :mod:`.header`: the header card (before/after of each rewrite, conntrack tuples);
- the ladder diagram lives in :mod:`kubeflow_tui.ladder` / :mod:`kubeflow_tui.render_ladder`.

Each picture is a rich renderable; the Textual widgets in ``kubeflow_tui/tui/widgets/``
(``wire.py``, ``pipeline.py``, ``header_card.py``, ``ladder_view.py``) only hold the
reactive state (trace, step) and hand it to these.
"""
