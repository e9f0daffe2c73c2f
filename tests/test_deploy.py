"""deploy/: the container image definition and the Kubernetes manifests for a class."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml

from kubeflow_tui.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
MANIFESTS = sorted((ROOT / "deploy" / "kubernetes").glob("*.yaml"))
KUBERNETES_VERSION = "1.33.0"

kubernetes_validate = pytest.importorskip("kubernetes_validate")


def _docs(path: Path) -> list[dict]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.name)
def test_manifests_validate_strictly(path):
    for doc in _docs(path):
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_validation_would_catch_a_mistake():
    doc = _docs(ROOT / "deploy" / "kubernetes" / "service.yaml")[0]
    doc["spec"]["sessionAfinity"] = doc["spec"].pop("sessionAffinity")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_manifests_fit_together():
    by_kind = {d["kind"]: d for p in MANIFESTS for d in _docs(p)}
    dep, svc, pvc = by_kind["Deployment"], by_kind["Service"], by_kind["PersistentVolumeClaim"]
    labels = dep["spec"]["template"]["metadata"]["labels"]
    assert dep["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert svc["spec"]["selector"].items() <= labels.items()
    assert svc["spec"]["sessionAffinity"] == "ClientIP"
    container = dep["spec"]["template"]["spec"]["containers"][0]
    port_names = {p["name"] for p in container["ports"]}
    assert {p["targetPort"] for p in svc["spec"]["ports"]} <= port_names
    claims = {v["persistentVolumeClaim"]["claimName"] for v in dep["spec"]["template"]["spec"]["volumes"]}
    assert claims == {pvc["metadata"]["name"]}
    assert {m["mountPath"] for m in container["volumeMounts"]} == {"/data"}


def test_containerfile_copies_what_exists_and_runs_a_real_command():
    text = (ROOT / "deploy" / "Containerfile").read_text()
    for line in text.splitlines():
        if line.startswith("COPY "):
            for src in line.split()[1:-1]:
                assert (ROOT / src).exists(), src
    assert "KUBEFLOW_TUI_DATA_DIR=/data" in text
    cmd = re.search(r'^CMD \["sh", "-c", "exec (.*)"\]$', text, re.M).group(1)
    argv = shlex.split(cmd.replace('\\"', '"'))
    assert argv[0] == "kubeflow-tui"
    args = build_parser().parse_args(argv[1:])
    assert (args.command, args.host, args.port) == ("serve", "0.0.0.0", 8000)
    assert args.class_name == "$CLASS" and args.public_url == "$PUBLIC_URL"
