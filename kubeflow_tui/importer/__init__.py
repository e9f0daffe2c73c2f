"""Import a cluster from kubectl's output into a scenario, and compare a node's real
``iptables-save`` with the rules kube-proxy should have written there.

- ``read_inputs(paths) -> list[Obj]``: the objects of ``kubectl get … -o yaml|json``
  files (``-`` = stdin), Lists unpacked; ``DumpError`` (``file:line:col: message``).
- ``build_scenario(objs, name=…, cluster_cidr=…, service_cidr=…) -> ImportResult``:
  ``.data`` (plain scenario data), ``.scenario`` (checked), ``.warnings``, ``.left_out``.
- ``render(data, comments)``: the scenario as YAML.
- ``diff.diff_rulesets(expected, dump) -> RuleDiff`` and ``diff.render_diff(...)``: kube-proxy's
  part of a node's rules against a real ``iptables-save``, grouped by Service port;
  ``diff.dump_cluster_cidr(dump)``: kube-proxy's ``--cluster-cidr`` as its rules show it.
"""

from .build import ImportResult, build_scenario
from .emit import render
from .read import MAX_BYTES, DumpError, Obj, read_inputs

__all__ = ["DumpError", "ImportResult", "MAX_BYTES", "Obj", "build_scenario", "read_inputs", "render"]
