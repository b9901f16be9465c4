"""deploy/kubernetes/clearml-probe.yaml and .github/workflows/image.yml: the shapes the README promises."""

from __future__ import annotations

import yaml

from stack import REPO_DIR
from test_compose import design_interface_names

MANIFEST = REPO_DIR / "deploy" / "kubernetes" / "clearml-probe.yaml"
WORKFLOW = REPO_DIR / ".github" / "workflows" / "image.yml"


def documents() -> dict[str, dict]:
    return {d["kind"]: d for d in yaml.safe_load_all(MANIFEST.read_text()) if d}


def test_kubernetes_deployment_is_a_single_recreated_non_root_replica_with_state():
    docs = documents()
    assert set(docs) == {"PersistentVolumeClaim", "Deployment", "Service"}
    spec = docs["Deployment"]["spec"]
    assert spec["replicas"] == 1 and spec["strategy"] == {"type": "Recreate"}
    pod = spec["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] == 10001
    (container,) = pod["containers"]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["args"] == ["serve"]
    assert container["livenessProbe"]["exec"]["command"] == ["clearml-probe", "healthcheck"]
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    assert mounts == {"state": "/var/lib/clearml-probe"}
    (volume,) = pod["volumes"]
    assert volume["persistentVolumeClaim"]["claimName"] == docs["PersistentVolumeClaim"]["metadata"]["name"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert set(env) <= design_interface_names()
    assert env["CLEARML_PROBE_STATE_DIR"] == "/var/lib/clearml-probe"
    assert "CLEARML_API_SECRET_KEY" not in env, "credentials come from the Secret"
    assert container["envFrom"] == [{"secretRef": {"name": "clearml-probe"}}]
    assert docs["Service"]["spec"].get("type", "ClusterIP") == "ClusterIP"


def test_image_workflow_publishes_to_ghcr_on_version_tags():
    workflow = yaml.safe_load(WORKFLOW.read_text())
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as a boolean
    assert triggers["push"]["tags"] == ["v*.*.*"]
    assert "paths" not in triggers["push"], "a paths filter would also filter tag pushes"
    assert workflow["permissions"]["packages"] == "write"
    steps = workflow["jobs"]["image"]["steps"]
    build = next(s for s in steps if s.get("uses", "").startswith("docker/build-push-action"))
    assert build["with"]["push"] == "${{ startsWith(github.ref, 'refs/tags/v') }}"
    meta = next(s for s in steps if s.get("uses", "").startswith("docker/metadata-action"))
    assert meta["with"]["images"].startswith("ghcr.io/")
