"""The kubectl verbs that repair a cluster: ``label``, ``patch`` and ``rollout restart``.

They change the scenario (the API server's state) and kube-proxy resyncs every node, as
``scale`` and ``delete`` do.  :func:`install` wraps a shell's ``kubectl`` so these verbs
are handled here and every other verb goes to the original command.

* ``kubectl label pod NAME|-l SEL KEY=VALUE... KEY- [--overwrite]`` → ``pod/web-1 labeled``
* ``kubectl patch svc NAME -p JSON [--type strategic|merge|json]`` → ``service/web patched``
  (spec: selector, ports, type, externalTrafficPolicy, internalTrafficPolicy,
  loadBalancerSourceRanges, sessionAffinity, externalIPs); ``kubectl patch pod NAME -p``
  with ``metadata.labels``
* ``kubectl scale deployment NAME --replicas=N``: as the shell's own scale, but a
  Deployment scaled to 0 is remembered (with its pod template), so it is still listed by
  ``kubectl get deployments`` (0/0) and can be scaled up again
* ``kubectl set env deployment/NAME KEY=VALUE`` (``--list``) → a rollout with the new env
* ``kubectl rollout restart deployment/NAME`` → new pods (new names and addresses) built
  from the Deployment's template, as the ReplicaSet controller does; a pod that was not
  Ready stays not Ready (the cause is in its template, not in the old pod).  The old pods
  stay listed as Terminating: serving through a preStop sleep, or exited at SIGTERM
  without one (:func:`_roll`)
* ``kubectl patch deployment NAME -p JSON``: the containers' preStop sleep
  (``lifecycle.preStop.sleep.seconds``); a changed template rolls the Deployment out

``kubectl edit`` opens an editor, which this shell has not: it says so and points at patch.
"""

from __future__ import annotations

import json
from typing import Any, Callable

from .base import CommandError, ShellContext, ShellResult

Command = Callable[[ShellContext, list[str]], ShellResult]

_POD = ("po", "pod", "pods")
_SVC = ("svc", "service", "services")
_NETPOL = ("netpol", "networkpolicy", "networkpolicies", "networkpolicies.networking.k8s.io")
_DEPLOY = ("deploy", "deployment", "deployments", "deployment.apps", "deployments.apps")
#: Service spec fields a patch may change, and the model's name for each
_SVC_FIELDS = ("selector", "ports", "type", "externalTrafficPolicy", "internalTrafficPolicy",
               "loadBalancerSourceRanges", "sessionAffinity", "externalIPs", "loadBalancerIP")


def install(shell: Any) -> Any:
    """Give ``shell`` (a :class:`~kubeflow_tui.shell.Shell`) the repairing kubectl verbs."""
    inner = shell.commands.get("kubectl")
    if inner is not None and not getattr(inner, "_repairs", False):
        shell.commands["kubectl"] = with_repairs(inner)
    return shell


def with_repairs(inner: Command) -> Command:
    def kubectl(ctx: ShellContext, argv: list[str]) -> ShellResult:
        argv = _verb_first(argv)
        verb = argv[0] if argv else ""
        if verb == "label":
            return _label(ctx, argv[1:])
        if verb == "patch":
            return _patch(ctx, argv[1:])
        if verb == "rollout":
            return _rollout(ctx, argv[1:])
        if verb == "set":
            return _set(ctx, argv[1:])
        if verb == "scale":
            return _scale(ctx, argv[1:], inner)
        if verb == "get" and len(argv) > 1 and argv[1].split("/")[0] in _DEPLOY:
            return _get_deployments(ctx, argv, inner)
        if verb == "edit":
            raise CommandError("error: kubectl edit needs an editor, which this shell has not; "
                               "use kubectl patch (or kubectl label) instead", 1)
        return inner(ctx, argv)

    kubectl._repairs = True  # type: ignore[attr-defined]
    return kubectl


# ------------------------------------------------------------------ helpers


def _verb_first(argv: list[str]) -> list[str]:
    """``kubectl -n kube-system scale ...`` → ``scale -n kube-system ...``."""
    if not argv or not argv[0].startswith("-"):
        return argv
    for k, tok in enumerate(argv):
        if not tok.startswith("-") and k > 0 and argv[k - 1] not in ("-n", "--namespace", "-o", "--output"):
            return [tok] + argv[:k] + argv[k + 1:]
    return argv


def _split(argv: list[str], flags_with_value: tuple[str, ...]) -> tuple[list[str], dict[str, str], set[str]]:
    pos: list[str] = []
    values: dict[str, str] = {}
    switches: set[str] = set()
    i = 0
    while i < len(argv):
        tok = argv[i]
        i += 1
        if tok.startswith("--") and "=" in tok:
            k, v = tok.split("=", 1)
            values[k] = v
        elif tok in flags_with_value:
            if i >= len(argv):
                raise CommandError(f"error: flag needs an argument: {tok}", 1)
            values[tok] = argv[i]
            i += 1
        elif tok.startswith("-") and len(tok) > 1:
            switches.add(tok)
        else:
            pos.append(tok)
    return pos, values, switches


def _ns(values: dict[str, str]) -> str:
    return values.get("-n") or values.get("--namespace") or "default"


def _target(pos: list[str]) -> tuple[str, list[str]]:
    """``pod web-1`` or ``pod/web-1``: (resource word, names); the rest of pos follows."""
    if not pos:
        raise CommandError("error: You must provide one or more resources by argument or filename.", 1)
    if "/" in pos[0]:
        res, name = pos[0].split("/", 1)
        return res, [name]
    return pos[0], pos[1:]


def set_scenario(sim: Any, scenario: Any) -> None:
    """The API server's state changed: revalidate it, rebuild the topology, resync kube-proxy."""
    from ..cluster.topology import build_topology
    from ..scenario.models import Scenario

    try:
        checked = Scenario.model_validate(scenario.model_dump(by_alias=True, exclude_none=True))
    except Exception as e:  # noqa: BLE001 - reported as the API server would
        msg = str(e).splitlines()
        detail = "; ".join(m.strip() for m in msg[1:3]) if len(msg) > 1 else str(e)
        raise CommandError(f"The request is invalid: {detail}", 1) from None
    sim.scenario = checked
    sim.topology = build_topology(checked)
    sim.sync_rules()


# ------------------------------------------------------------------ label


def _label(ctx: ShellContext, argv: list[str]) -> ShellResult:
    pos, values, switches = _split(argv, ("-n", "--namespace", "-l", "--selector"))
    overwrite = "--overwrite" in switches or values.get("--overwrite") == "true"
    selector = values.get("-l") or values.get("--selector")
    if not pos:
        raise CommandError("error: one or more resources must be specified as <resource> <name> or "
                           "<resource>/<name>", 1)
    res, rest = _target(pos)
    if res not in _POD:
        raise CommandError(f"error: labelling {res} is not simulated here (pods are: a Service selects "
                           "pods by their labels)", 1)
    names = [w for w in rest if "=" not in w and not w.endswith("-")]
    changes = [w for w in rest if "=" in w or w.endswith("-")]
    if not changes:
        raise CommandError("error: at least one label update is required", 1)
    sets: dict[str, str] = {}
    removes: list[str] = []
    for c in changes:
        if "=" in c:
            k, v = c.split("=", 1)
            sets[k] = v
        else:
            removes.append(c[:-1])
    ns = _ns(values)
    sc = ctx.sim.scenario
    from .kubectl_cmd import _label_match

    if selector is not None:
        chosen = [p for p in sc.pods if p.namespace == ns and _label_match(p.labels, selector)]
        if not chosen:
            return ShellResult(stderr=f"No resources found in {ns} namespace.\n")
    else:
        if not names:
            raise CommandError("error: resource(s) were provided, but no name was specified", 1)
        chosen = []
        for n in names:
            p = next((p for p in sc.pods if p.name == n and p.namespace == ns), None)
            if p is None:
                raise CommandError(f'Error from server (NotFound): pods "{n}" not found', 1)
            chosen.append(p)
    out = ""
    new = {p.name: p for p in sc.pods}
    for p in chosen:
        labels = dict(p.labels)
        for k, v in sets.items():
            if k in labels and labels[k] != v and not overwrite:
                raise CommandError(f"error: '{k}' already has a value ({labels[k]}), and --overwrite is false", 1)
        before = dict(labels)
        labels.update(sets)
        for k in removes:
            labels.pop(k, None)
        new[p.name] = p.model_copy(update={"labels": labels})
        word = "unlabeled" if removes and not sets else "labeled"
        out += f"pod/{p.name} {word}\n" if labels != before else f"pod/{p.name} not labeled\n"
    set_scenario(ctx.sim, sc.model_copy(update={"pods": [new[p.name] for p in sc.pods]}))
    return ShellResult(stdout=out)


# ------------------------------------------------------------------ patch


def _merge(base: Any, patch: Any, *, strategic: bool, key: str = "") -> Any:
    """JSON merge patch (RFC 7386); strategic: lists of ports merge by ``port``, of
    containers by ``name``."""
    if isinstance(patch, dict) and isinstance(base, dict):
        out = dict(base)
        for k, v in patch.items():
            if v is None:
                out.pop(k, None)
            else:
                out[k] = _merge(base.get(k), v, strategic=strategic, key=k)
        return out
    merge_key = {"ports": "port", "containers": "name"}.get(key)  # the patchMergeKey of each list
    if strategic and merge_key and isinstance(patch, list) and isinstance(base, list):
        out = [dict(p) for p in base]
        for item in patch:
            if not isinstance(item, dict) or merge_key not in item:
                raise CommandError(f'The request is invalid: {key}: a strategic merge patch item needs "{merge_key}"', 1)
            for i, p in enumerate(out):
                if p.get(merge_key) == item[merge_key]:
                    out[i] = _merge(p, item, strategic=True)
                    break
            else:
                out.append(item)
        return out
    return patch


def _json_patch(doc: dict, ops: Any) -> dict:
    if not isinstance(ops, list):
        raise CommandError("error: unable to parse the json patch: expected a list of operations", 1)
    doc = json.loads(json.dumps(doc))
    for op in ops:
        if not isinstance(op, dict) or op.get("op") not in ("add", "replace", "remove") or "path" not in op:
            raise CommandError(f"error: this shell applies add, replace and remove operations, got {op!r}", 1)
        parts = [p.replace("~1", "/").replace("~0", "~") for p in str(op["path"]).split("/")[1:]]
        if not parts:
            raise CommandError("error: a json patch path must name a field", 1)
        cur: Any = doc
        for p in parts[:-1]:
            try:
                cur = cur[int(p)] if isinstance(cur, list) else cur[p]
            except (KeyError, IndexError, ValueError):
                raise CommandError(f'The request is invalid: the path "{op["path"]}" does not exist', 1) from None
        last = parts[-1]
        try:
            if op["op"] == "remove":
                if isinstance(cur, list):
                    cur.pop(int(last))
                else:
                    del cur[last]
            elif isinstance(cur, list):
                if last == "-":
                    cur.append(op.get("value"))
                elif op["op"] == "add":
                    cur.insert(int(last), op.get("value"))
                else:
                    cur[int(last)] = op.get("value")
            else:
                if op["op"] == "replace" and last not in cur:
                    raise KeyError(last)
                cur[last] = op.get("value")
        except (KeyError, IndexError, ValueError):
            raise CommandError(f'The request is invalid: the path "{op["path"]}" does not exist', 1) from None
    return doc


def _svc_spec(svc: Any) -> dict:
    spec = {"selector": dict(svc.selector) if svc.selector is not None else None,
            "ports": [{"name": p.name, "port": p.port, "protocol": p.protocol, "targetPort": p.target,
                       **({"nodePort": p.nodePort} if p.nodePort else {})} for p in svc.ports],
            "type": svc.type, "externalTrafficPolicy": svc.externalTrafficPolicy,
            "internalTrafficPolicy": svc.internalTrafficPolicy,
            "loadBalancerSourceRanges": list(svc.loadBalancerSourceRanges),
            "sessionAffinity": svc.sessionAffinity, "externalIPs": list(svc.externalIPs),
            "loadBalancerIP": svc.loadBalancerIP}
    return {k: v for k, v in spec.items() if v is not None}


def _patch(ctx: ShellContext, argv: list[str]) -> ShellResult:
    pos, values, _ = _split(argv, ("-n", "--namespace", "-p", "--patch", "--type"))
    body = values.get("-p") or values.get("--patch")
    if body is None:
        raise CommandError("error: must specify --patch or --patch-file containing the contents of the patch", 1)
    kind = values.get("--type", "strategic")
    if kind not in ("strategic", "merge", "json"):
        raise CommandError(f'error: --type must be one of [json merge strategic], not "{kind}"', 1)
    try:
        patch = json.loads(body)
    except json.JSONDecodeError:
        try:
            import yaml

            patch = yaml.safe_load(body)
        except Exception:  # noqa: BLE001
            raise CommandError(f"error: unable to parse \"{body}\": yaml: did not find expected node content", 1) from None
    res, names = _target(pos)
    if len(names) != 1:
        raise CommandError("error: patch takes one resource name", 1)
    name, ns = names[0], _ns(values)
    sc = ctx.sim.scenario
    if res in _SVC:
        svc = next((s for s in sc.services if s.name == name and s.namespace == ns), None)
        if svc is None:
            raise CommandError(f'Error from server (NotFound): services "{name}" not found', 1)
        doc = {"spec": _svc_spec(svc)}
        new = _json_patch(doc, patch) if kind == "json" else _merge(doc, patch, strategic=kind == "strategic")
        extra = set(new) - {"spec", "metadata"}
        unknown = extra | {f"spec.{k}" for k in set(new.get("spec") or {}) - set(_SVC_FIELDS)}
        if unknown:
            raise CommandError(f'Error from server (BadRequest): the simulated Service has no field '
                               f'"{sorted(unknown)[0]}" (it keeps: {", ".join(_SVC_FIELDS)})', 1)
        spec = new.get("spec") or {}
        if spec == doc["spec"]:
            return ShellResult(stdout=f"service/{name} patched (no change)\n")
        update = {k: spec.get(k) for k in _SVC_FIELDS if k in spec or k in doc["spec"]}
        if "ports" in update:
            update["ports"] = [{k: v for k, v in p.items() if k in ("name", "port", "protocol", "targetPort",
                                                                   "nodePort")} for p in update["ports"] or []]
        data = svc.model_dump(by_alias=True, exclude_none=True)
        for k, v in update.items():
            if v is None:
                data.pop(k, None)
            else:
                data[k] = v
        from ..scenario.models import Service

        try:
            changed = Service.model_validate(data)
        except Exception as e:  # noqa: BLE001
            first = str(e).splitlines()
            raise CommandError(f'The Service "{name}" is invalid: {" ".join(x.strip() for x in first[1:3])}', 1) from None
        set_scenario(ctx.sim, sc.model_copy(update={"services": [changed if s is svc else s for s in sc.services]}))
        return ShellResult(stdout=f"service/{name} patched\n")
    if res in _POD:
        pod = next((p for p in sc.pods if p.name == name and p.namespace == ns), None)
        if pod is None:
            raise CommandError(f'Error from server (NotFound): pods "{name}" not found', 1)
        doc = {"metadata": {"labels": dict(pod.labels)}}
        new = _json_patch(doc, patch) if kind == "json" else _merge(doc, patch, strategic=kind == "strategic")
        if set(new) != {"metadata"} or set(new["metadata"]) - {"labels"}:
            raise CommandError("Error from server (BadRequest): this shell patches a pod's metadata.labels only", 1)
        labels = new["metadata"].get("labels") or {}
        if labels == pod.labels:
            return ShellResult(stdout=f"pod/{name} patched (no change)\n")
        set_scenario(ctx.sim, sc.model_copy(update={"pods": [
            p.model_copy(update={"labels": {str(k): str(v) for k, v in labels.items()}}) if p is pod else p
            for p in sc.pods]}))
        return ShellResult(stdout=f"pod/{name} patched\n")
    if res in _NETPOL:
        return _patch_netpol(ctx, name, ns, patch, kind)
    if res in _DEPLOY:
        return _patch_deployment(ctx, name, ns, patch, kind)
    raise CommandError(f"error: patching {res} is not simulated here (services, pods, deployments "
                       "and networkpolicies are)", 1)


_PRESTOP_ONLY = ("Error from server (BadRequest): this shell patches a Deployment's preStop hook only "
                 "(spec.template.spec.containers[].lifecycle.preStop.sleep.seconds)")


def _patch_deployment(ctx: ShellContext, name: str, ns: str, patch: Any, kind: str) -> ShellResult:
    """``kubectl patch deployment``: its containers' preStop sleep (lifecycle.preStop.sleep,
    Kubernetes 1.30+).  A changed pod template rolls the Deployment out, as the Deployment
    controller does: the pods running now terminate with the hook they were created with."""
    sc = ctx.sim.scenario
    members = [p for p in sc.pods if p.deployment == name and p.namespace == ns]
    if not members:
        raise CommandError(f'Error from server (NotFound): deployments.apps "{name}" not found', 1)
    template = ([p for p in members if not p.terminating] or members)[-1]
    container = template.deployment or template.name

    def doc_for(seconds: int) -> dict:
        c: dict = {"name": container}
        if seconds:
            c["lifecycle"] = {"preStop": {"sleep": {"seconds": seconds}}}
        return {"spec": {"template": {"spec": {"containers": [c]}}}}

    doc = doc_for(template.preStopSleepSeconds)
    new = _json_patch(doc, patch) if kind == "json" else _merge(doc, patch, strategic=kind == "strategic")
    try:
        (c,) = new["spec"]["template"]["spec"]["containers"]
        assert set(new) == {"spec"} and set(new["spec"]) == {"template"} and set(new["spec"]["template"]) == {"spec"}
        assert set(new["spec"]["template"]["spec"]) == {"containers"} and set(c) <= {"name", "lifecycle"}
        assert c["name"] == container
        hook = (c.get("lifecycle") or {}).get("preStop")
        seconds = 0 if hook is None else hook["sleep"]["seconds"]
        assert set(c.get("lifecycle") or {}) <= {"preStop"} and (hook is None or set(hook) == {"sleep"})
    except (AssertionError, KeyError, TypeError, ValueError):
        raise CommandError(_PRESTOP_ONLY, 1) from None
    if not isinstance(seconds, int) or isinstance(seconds, bool) or seconds < 0:
        raise CommandError("The Deployment is invalid: spec.template.spec.containers[0].lifecycle.preStop."
                           f"sleep.seconds: Invalid value: {seconds!r}: must be a non-negative integer", 1)
    if seconds == template.preStopSleepSeconds:
        return ShellResult(stdout=f"deployment.apps/{name} patched (no change)\n")
    _roll_out(ctx, [name], ns, {"preStopSleepSeconds": seconds})
    return ShellResult(stdout=f"deployment.apps/{name} patched\n")


def _patch_netpol(ctx: ShellContext, name: str, ns: str, patch: Any, kind: str) -> ShellResult:
    """``kubectl patch networkpolicy``: its spec, as ``kubectl get -o yaml`` shows it."""
    from ..scenario.models import NetworkPolicy
    from .kubectl_cmd import _netpol_obj

    sc = ctx.sim.scenario
    pol = next((p for p in sc.networkPolicies if p.name == name and p.namespace == ns), None)
    if pol is None:
        raise CommandError(f'Error from server (NotFound): networkpolicies.networking.k8s.io "{name}" not found', 1)
    doc = {"spec": _netpol_obj(pol)["spec"]}
    new = _json_patch(doc, patch) if kind == "json" else _merge(doc, patch, strategic=kind == "strategic")
    if set(new) - {"spec", "metadata"}:
        raise CommandError("Error from server (BadRequest): this shell patches a NetworkPolicy's spec only", 1)
    spec = new.get("spec") or {}
    if spec == doc["spec"]:
        return ShellResult(stdout=f"networkpolicy.networking.k8s.io/{name} patched (no change)\n")
    try:
        changed = NetworkPolicy.model_validate({"name": name, "namespace": ns, **spec})
    except Exception as e:  # noqa: BLE001
        first = str(e).splitlines()
        raise CommandError(f'The NetworkPolicy "{name}" is invalid: {" ".join(x.strip() for x in first[1:3])}',
                           1) from None
    set_scenario(ctx.sim, sc.model_copy(update={"networkPolicies": [
        changed if p is pol else p for p in sc.networkPolicies]}))
    return ShellResult(stdout=f"networkpolicy.networking.k8s.io/{name} patched\n")


# ------------------------------------------------------------------ rollout restart


def _rollout(ctx: ShellContext, argv: list[str]) -> ShellResult:
    pos, values, _ = _split(argv, ("-n", "--namespace"))
    if not pos or pos[0] != "restart":
        raise CommandError("error: this shell knows `kubectl rollout restart deployment/NAME`", 1)
    res, names = _target(pos[1:])
    if res not in _DEPLOY:
        raise CommandError(f'error: {res} "{names[0] if names else ""}" restarting is not supported here '
                           "(deployments are)", 1)
    if not names:
        raise CommandError("error: resource(s) were provided, but no name was specified", 1)
    _roll_out(ctx, names, _ns(values), {})
    return ShellResult(stdout="".join(f"deployment.apps/{name} restarted\n" for name in names))


def _roll_out(ctx: ShellContext, names: list[str], ns: str, template: dict) -> None:
    """Roll each Deployment of ``names`` out with ``template``'s changes (:func:`_roll`) on the
    shell's cluster; the scenario's flows from a replaced pod start from its successor."""
    sc = ctx.sim.scenario
    pods = list(sc.pods)
    renamed: dict[str, str] = {}
    for name in names:
        if not any(p.deployment == name and p.namespace == ns for p in pods):
            raise CommandError(f'Error from server (NotFound): deployments.apps "{name}" not found', 1)
        renamed |= _roll(sc, pods, name, ns, template)
    set_scenario(ctx.sim, sc.model_copy(update={"pods": pods, "flows": _follow(sc.flows, renamed)}))


def _follow(flows: list, renamed: dict[str, str]) -> list:
    """The scenario's flows from a replaced pod now start from its successor (the same app)."""
    return [f.model_copy(update={"from_": renamed[f.from_]}) if f.from_ in renamed else f for f in flows]


def _roll(sc: Any, pods: list, name: str, ns: str, template: dict) -> dict[str, str]:
    """Roll Deployment ``name`` out in ``pods`` (changed in place), seen at the moment its old
    pods got their SIGTERM: each running pod is replaced by a new one (a new name and
    address, built from the template with ``template``'s changes; a pod that was not Ready
    stays not Ready, the cause is in its template) and stays listed as Terminating.  With a
    preStop sleep the kubelet runs the hook first, so the old pod still serves and passes
    readiness (a serving terminating endpoint); without one the container gets SIGTERM at
    once, and an app that installs no handler dies of it (SIGTERM's default action): it
    exits, its readiness fails, nothing listens on its address any more.  Pods that were
    already terminating (an earlier rollout) have finished by now and are gone.  Returns old
    name -> new name, so the scenario's flows from an old pod start from its successor."""
    from ..cluster.events import EventError, _free_ip, _replica_name

    members = [p for p in pods if p.deployment == name and p.namespace == ns]
    running = [p for p in members if not p.terminating]
    # names are never reused (the ReplicaSet's random suffixes), nor, at once, the freed
    # addresses (host-local IPAM hands out the next address after the last one it gave)
    taken = {p.name for p in pods}
    used = {p.ip for p in pods}
    numbers = [int(p.name.rsplit("-", 1)[1]) for p in members if p.name.rsplit("-", 1)[-1].isdigit()]
    taken |= {f"{name}-{k}" for k in range(1, max(numbers, default=0) + 1)}
    for p in members:
        if p.terminating and running:
            pods.remove(p)
    renamed: dict[str, str] = {}
    for old in running or members:
        new_name = _replica_name(name, taken)
        taken.add(new_name)
        try:
            ip = _free_ip(sc, old.node, used)
        except EventError as e:
            raise CommandError(f"error: {e}", 1) from None
        used.add(ip)
        new = old.model_copy(update={"name": new_name, "ip": ip, "terminating": False, "exited": False,
                                     **template})
        if not running:  # only terminating pods: replaced, as before they finish
            pods[pods.index(old)] = new
            renamed[old.name] = new_name
            continue
        stop = {"terminating": True} if old.preStopSleepSeconds else {
            "terminating": True, "exited": True, "ready": False}
        pods[pods.index(old)] = old.model_copy(update=stop)
        pods.append(new)
        renamed[old.name] = new_name
    return renamed


# ------------------------------------------------------------------ set env


def _set(ctx: ShellContext, argv: list[str]) -> ShellResult:
    """``kubectl set env deployment/NAME KEY=VALUE... KEY- [--list] [-n NS]``: the pod
    template's environment changes, so the Deployment rolls out new pods (as a real
    ``set env`` does: the new ReplicaSet's pods have new names and addresses)."""
    pos, values, flags = _split(argv, ("-n", "--namespace", "-c", "--container"))
    if not pos or pos[0] != "env":
        raise CommandError("error: this shell knows `kubectl set env deployment/NAME KEY=VALUE`", 1)
    res, rest = _target(pos[1:])
    if "/" in pos[1] if len(pos) > 1 else False:
        rest = rest + pos[2:]  # deployment/NAME KEY=VALUE ...
    if res in _POD:
        name = rest[0] if rest else ""
        raise CommandError(f'The Pod "{name}" is invalid: spec: Forbidden: pod updates may not change '
                           "fields other than `spec.containers[*].image` (a pod's env is fixed: "
                           "set it on its Deployment)", 1)
    if res not in _DEPLOY:
        raise CommandError(f'error: setting env on {res} is not simulated here (deployments are)', 1)
    if not rest:
        raise CommandError("error: resource(s) were provided, but no name was specified", 1)
    name, changes = rest[0], rest[1:]
    ns = _ns(values)
    sc = ctx.sim.scenario
    members = [p for p in sc.pods if p.deployment == name and p.namespace == ns]
    if not members:
        raise CommandError(f'Error from server (NotFound): deployments.apps "{name}" not found', 1)
    # the template is what the running pods were built from (terminating ones are the old one)
    template = next((p for p in members if not p.terminating), members[0])
    env = dict(template.env)
    if "--list" in flags:
        return ShellResult(stdout=f"# Deployment {name}, container {name}\n"
                           + "".join(f"{k}={v}\n" for k, v in env.items()))
    if not changes:
        raise CommandError("error: at least one environment variable must be provided", 1)
    for c in changes:
        if c.endswith("-") and "=" not in c:
            env.pop(c[:-1], None)
        elif "=" in c and c.index("=") > 0:
            k, _, v = c.partition("=")
            env[k] = v
        else:
            raise CommandError(f'error: invalid argument "{c}": environment variables must be of the '
                               "form key=value or key-", 1)
    if env == template.env:
        return ShellResult(stdout=f"deployment.apps/{name} env updated (no change)\n")
    _roll_out(ctx, [name], ns, {"env": env})
    return ShellResult(stdout=f"deployment.apps/{name} env updated\n")


# ------------------------------------------------------------------ scale to zero and back


def _zero(sim: Any) -> dict[tuple[str, str], Any]:
    """Deployments scaled to 0 on this cluster: (namespace, name) -> a pod of its template."""
    store = getattr(sim, "_zero_deployments", None)
    if store is None:
        store = {}
        sim._zero_deployments = store
    return store


def _scale(ctx: ShellContext, argv: list[str], inner: Command) -> ShellResult:
    pos, values, _ = _split(argv, ("-n", "--namespace", "--replicas"))
    replicas = values.get("--replicas")
    if replicas is None or not pos:
        return inner(ctx, ["scale"] + argv)
    res, names = _target(pos)
    ns = _ns(values)
    if res not in _DEPLOY or len(names) != 1 or not replicas.isdigit():
        return inner(ctx, ["scale"] + argv)
    name, n = names[0], int(replicas)
    sc = ctx.sim.scenario
    members = [p for p in sc.pods if p.deployment == name and p.namespace == ns]
    zero = _zero(ctx.sim)
    if members:
        if n == 0:
            zero[(ns, name)] = members[0]
        return inner(ctx, ["scale"] + argv)
    template = zero.get((ns, name))
    if template is None:
        return inner(ctx, ["scale"] + argv)  # its NotFound
    if n == 0:
        return ShellResult(stdout=f"deployment.apps/{name} scaled\n")
    if n > 100:
        raise CommandError("error: the simulator allows at most 100 replicas", 1)
    from ..cluster.events import EventError, _free_ip, _replica_name

    pods = list(sc.pods)
    taken = {p.name for p in pods}
    used = {p.ip for p in pods}
    nodes = [nd.name for nd in sc.cluster.nodes]
    for k in range(n):
        node = template.node if k == 0 else nodes[k % len(nodes)]
        pname = _replica_name(name, taken)
        taken.add(pname)
        try:
            ip = _free_ip(sc, node, used)
        except EventError as e:
            raise CommandError(f"error: {e}", 1) from None
        used.add(ip)
        pods.append(template.model_copy(update={"name": pname, "node": node, "ip": ip, "terminating": False}))
    set_scenario(ctx.sim, sc.model_copy(update={"pods": pods}))
    del zero[(ns, name)]
    return ShellResult(stdout=f"deployment.apps/{name} scaled\n")


def _get_deployments(ctx: ShellContext, argv: list[str], inner: Command) -> ShellResult:
    """``kubectl get deployments``: also the Deployments scaled to 0 (READY 0/0)."""
    r = inner(ctx, argv)
    pos, values, switches = _split(argv[1:], ("-n", "--namespace", "-o", "--output", "-l", "--selector"))
    all_ns = bool(switches & {"-A", "--all-namespaces"})
    if values.get("-o") or values.get("--output") or values.get("-l") or values.get("--selector") \
            or any(t.startswith("-o") for t in switches):
        return r
    res, names = _target(pos)
    ns = _ns(values)
    extra = [(n_s, d) for (n_s, d) in _zero(ctx.sim) if (all_ns or n_s == ns) and (not names or d in names)]
    if not extra:
        return r
    from .base import align_table

    rows: list[list[str]] = []
    for line in r.stdout.splitlines()[1:]:
        rows.append(line.split())
    for n_s, d in extra:
        rows.append(([n_s] if all_ns else []) + [d, "0/0", "0", "0", "5m"])
    header = (["NAMESPACE"] if all_ns else []) + ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    rows.sort(key=lambda row: tuple(row[:2]) if all_ns else (row[0],))
    found = {d for _, d in extra}
    err = "".join(line + "\n" for line in r.stderr.splitlines()
                  if not line.startswith("No resources found") and not any(f'"{d}" not found' in line for d in found))
    return ShellResult(stdout=align_table([header] + rows), stderr=err, exit_code=1 if err else 0)
