"""Question families of kube-proxy's nftables mode, computed from Traces.

* ``nft-vmap`` (from one trace): a rule looked the first packet up in a verdict map
  (``… vmap @service-ips`` or ``numgen random mod N vmap { … }``); which element matched?
  The answer is the element the engine named in the step; the distractors are the map's
  other elements on that node (``QuizContext.nft_maps``; the rule's own elements for an
  anonymous vmap) and the ways a lookup can miss.
* ``nft-wrong-port`` (from a second run): the flow's client opens a connection to a port
  its ClusterIP does not serve; what happens and where?  The answer is the engine's own
  run (``ClusterSim.run_adhoc``): ``cluster-ips-check`` rejects it.

Both are asked only in nftables mode (they need the ``ip kube-proxy`` steps).
"""

from __future__ import annotations

import re
from typing import Any, Iterable

from ..trace import Trace
from .context import EMPTY, QuizContext
from .model import Question, assemble, cite, packet_text, rng_for

NFT_TABLE = "ip kube-proxy"
_ELEMENT = re.compile(r"element '([^']*)' (?:matches|decides)")
_KEY = re.compile(r"the key (.+?) is looked up in @(\S+?);")
_VMAP_ELEMENTS = re.compile(r"vmap \{ (.*) \}")


def _question(trace: Trace, kind: str, index: int, host: str, prompt: str, answer: str,
              tiers: list[Iterable[str]], explanation: str, seed: int | None, target: str) -> Question | None:
    qid = f"{trace.scenario}/{trace.flow}/{kind}/{index}"
    assembled = assemble(answer, tiers, rng_for(seed, qid))
    if assembled is None:
        return None
    options, answer_index = assembled
    expl = explanation.strip()
    if 0 <= index < len(trace.steps):
        expl += "\n" + cite(trace.steps[index])
    return Question(qid, kind, prompt, options, answer_index, expl, index, trace.scenario, trace.flow, host, target)


def q_nft_vmap(trace: Trace, i: int, ctx: QuizContext = EMPTY, seed: int | None = None) -> Question | None:
    """Which element of the verdict map matched at step ``i`` (a ``goto``/``jump`` through a vmap)."""
    s = trace.steps[i]
    if s.table != NFT_TABLE or "vmap" not in (s.rule or "") or not s.target:
        return None
    m = _ELEMENT.search(s.why)
    if m is None:
        return None
    element = m.group(1)
    before = trace.steps[i - 1].packet if i > 0 else s.packet
    key = _KEY.search(s.why)
    if key is not None:  # a named map: @service-ips, @service-nodeports …
        keytext, name = key.groups()
        others = [e for e in ctx.nft_maps.get(s.host, {}).get(name, ()) if e != element]
        misses = [f"none: {keytext} is not in @{name}, so the rule does not match and the packet goes on "
                  "to the chain's next rule",
                  f"none: {keytext} is not in @{name}; the packet leaves kube-proxy's table unchanged and "
                  "cluster-ips-check rejects it later"]
        prompt = (f"On {s.host}, the first packet {packet_text(before)} reaches {s.chain}: `{s.rule}`. "
                  f"The key {keytext} is looked up in @{name}. Which element matches?")
        target = f"{s.host} @{name}"
    else:  # an anonymous vmap: numgen random mod N vmap { 0 : goto …, 1 : goto … }
        inner = _VMAP_ELEMENTS.search(s.rule or "")
        others = [e.strip() for e in inner.group(1).split(",")] if inner else []
        others = [e for e in others if e != element]
        misses = ["none: numgen gave a number the vmap does not hold, so the rule does not match"]
        prompt = (f"On {s.host}, the first packet {packet_text(before)} reaches {s.chain}: `{s.rule}`. "
                  "Which element of the vmap decides where it goes?")
        target = f"{s.host} {s.chain}"
    return _question(trace, "nft-vmap", i, s.host, prompt, element, [others, misses], s.why, seed, target)


def nft_vmap_questions(trace: Trace, ctx: QuizContext = EMPTY, seed: int | None = None) -> list[tuple[int, Question]]:
    out = []
    for i, s in enumerate(trace.steps):
        if s.packet_no == 0 and s.table == NFT_TABLE and s.kind in ("goto", "jump") and "vmap" in (s.rule or ""):
            q = q_nft_vmap(trace, i, ctx, seed)
            if q is not None:
                out.append((i, q))
    return out


# ------------------------------------------------------------------ the wrong port of a ClusterIP

_OUTCOME_TEXT = {
    "refused": "Refused at once: cluster-ips-check rejects the first packet (ICMP port unreachable)",
    "dropped": "Dropped silently by cluster-ips-check: the client waits until it times out",
    "timeout": "Dropped silently by cluster-ips-check: the client waits until it times out",
}
_WRONG_PORT_DISTRACTORS = (
    "It reaches an endpoint pod on that port, and the pod refuses it (TCP RST from the pod)",
    "Dropped silently by cluster-ips-check: the client waits until it times out",
    "Refused at once: cluster-ips-check rejects the first packet (ICMP port unreachable)",
    "Nothing in kube-proxy's table matches it: it leaves the node unchanged towards the default route",
)


def nft_wrong_port_question(scenario: Any, flow_name: str, *, seed: int | None = None) -> Question | None:
    """The flow's client connects to its ClusterIP on a port the Service does not have."""
    from ..cluster import ClusterSim

    if scenario.cluster.proxyMode != "nftables":
        return None
    flow = scenario.flow(flow_name)
    svc = next((sv for sv in scenario.services if getattr(sv, "clusterIP", None) == flow.dst_ip), None)
    if svc is None:
        return None
    ports = sorted({p.port for sv in scenario.services if getattr(sv, "clusterIP", None) == flow.dst_ip
                    for p in sv.ports})
    wrong = next(p for p in (80, 443, 8081, 9999, 12345) if p not in ports)
    flow_trace = ClusterSim(scenario, seed=seed).run_flow(flow_name)
    trace = ClusterSim(scenario, seed=seed).run_adhoc(flow.from_, f"{flow.dst_ip}:{wrong}", flow.protocol)
    deciding = [st for st in trace.steps if st.table == NFT_TABLE and st.kind in ("reject", "drop")
                and st.packet_no == 0]
    if not deciding or trace.outcome not in _OUTCOME_TEXT or deciding[0].chain != "cluster-ips-check":
        return None
    s = deciding[0]
    answer = _OUTCOME_TEXT[trace.outcome]
    name = f"{svc.namespace}/{svc.name}"
    prompt = (f"{flow.from_} opens a {flow.protocol} connection to {flow.dst_ip}:{wrong}, the ClusterIP of "
              f"{name} on a port it does not serve (its ports: {', '.join(map(str, ports))}). kube-proxy runs "
              "in nftables mode. What happens to the first packet?")
    expl = (f"Run on the cluster: {trace.summary}\nIn that run, step {s.index} on {s.host} ({s.hook} "
            f"{s.table} {s.chain}): {s.why}\nThe rule: {s.rule}\n@service-ips holds {flow.dst_ip} only with "
            "the Service's ports, so the lookup in services misses and no DNAT happens; cluster-ips-check "
            f"then finds {flow.dst_ip} in @cluster-ips and rejects the packet, so the client fails at once "
            "instead of waiting (an address of the service range that no Service holds is dropped instead).")
    return _question(flow_trace, "nft-wrong-port", 0, s.host, prompt, answer,
                     [[d for d in _WRONG_PORT_DISTRACTORS if d != answer]], expl, seed,
                     target=f"{flow.dst_ip} wrong port")
