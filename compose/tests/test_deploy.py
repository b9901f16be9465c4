"""deploy/kubernetes/clearml-probe.yaml and .github/workflows/image.yml: the shapes the README promises, the
Kubernetes API schemas (kubernetes-validate ships them, so this runs offline), and checkov on the manifest and the
Dockerfile with every finding fixed or skipped with a stated reason."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import pytest
import yaml

from stack import COMPOSE_DIR, REPO_DIR
from test_compose import is_alert_variable, sidecar_interface_names

STRICT = os.environ.get("CLEARML_COMPOSE_TESTS_STRICT") == "1"
TOOLS_DIR = os.environ.get("CLEARML_TEST_TOOLS_DIR", str(REPO_DIR / ".cache" / "tools"))


def tool(path_or_name: str) -> str:
    found = path_or_name if os.path.isfile(path_or_name) else shutil.which(path_or_name)
    if not found:
        message = f"{path_or_name} is not installed (scripts/install-deps --test installs it)"
        if STRICT:
            pytest.fail(message)
        pytest.skip(message)
    return found

MANIFEST = REPO_DIR / "deploy" / "kubernetes" / "clearml-probe.yaml"
WORKFLOW = REPO_DIR / ".github" / "workflows" / "image.yml"


def documents() -> dict[str, dict]:
    return {d["kind"]: d for d in yaml.safe_load_all(MANIFEST.read_text()) if d}


def test_kubernetes_deployment_is_a_single_recreated_non_root_replica_with_state():
    docs = documents()
    assert set(docs) == {"PersistentVolumeClaim", "Deployment", "Service", "NetworkPolicy"}
    assert {d["metadata"].get("namespace") for d in docs.values()} == {"clearml"}, "never the default namespace"
    spec = docs["Deployment"]["spec"]
    assert spec["replicas"] == 1 and spec["strategy"] == {"type": "Recreate"}
    pod = spec["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] == 10001
    (container,) = pod["containers"]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["args"] == ["serve"]
    assert container["livenessProbe"]["exec"]["command"] == ["clearml-probe", "healthcheck"]
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    assert mounts == {"state": "/var/lib/clearml-probe", "secrets": "/run/secrets/clearml-probe"}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["state"]["persistentVolumeClaim"]["claimName"] == \
        docs["PersistentVolumeClaim"]["metadata"]["name"]
    assert volumes["secrets"]["secret"]["secretName"] == "clearml-probe"
    env = {e["name"]: e.get("value") for e in container["env"]}
    names = {k[:-len("_FILE")] if k.endswith("_FILE") else k for k in env}
    assert {n for n in names if not is_alert_variable(n)} <= sidecar_interface_names()
    assert env["CLEARML_PROBE_STATE_DIR"] == "/var/lib/clearml-probe"
    assert "CLEARML_API_SECRET_KEY" not in env and "envFrom" not in container, "secrets are files, never env"
    # The sidecar's HTTP API (silences) requires a token: wired from the Secret, as compose wires init.sh's.
    assert env["CLEARML_PROBE_HTTP_TOKEN_FILE"] == "/run/secrets/clearml-probe/CLEARML_PROBE_HTTP_TOKEN"
    assert env["CLEARML_API_SECRET_KEY_FILE"] == "/run/secrets/clearml-probe/CLEARML_API_SECRET_KEY"
    policy = docs["NetworkPolicy"]["spec"]
    assert policy["podSelector"] == spec["selector"] and policy["ingress"] == [{"ports": [{"protocol": "TCP",
                                                                                           "port": 9469}]}]
    assert docs["Service"]["spec"].get("type", "ClusterIP") == "ClusterIP"


def test_image_workflow_tests_then_publishes_the_image_compose_names():
    workflow = yaml.safe_load(WORKFLOW.read_text())
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as a boolean
    assert triggers["push"]["tags"] == ["v*.*.*"]
    assert "paths" not in triggers["push"], "a paths filter would also filter tag pushes"
    assert workflow["permissions"]["packages"] == "write"
    jobs = workflow["jobs"]
    # On every trigger (tag, main, pull request) the whole suite runs first (Debian 12 with Swift, as the image's
    # build stage).
    assert "if" not in jobs["test"], "the suite runs on main and pull requests too"
    assert jobs["test"]["container"]["image"].startswith("swift:6.3-bookworm")
    assert any(step.get("run") == ".ci/run" for step in jobs["test"]["steps"])
    image = jobs["image"]
    # No `if`: GitHub's default success() builds the image only once the suite passed, and a skipped suite is no pass.
    assert image["needs"] == ["test"] and "if" not in image
    steps = image["steps"]
    names = [step.get("name", step.get("uses", "")) for step in steps]
    built, tested, published = (names.index("Build"), names.index("Test the built image"), names.index("Publish"))
    assert built < tested < published, "the image is tested before it is published"
    assert steps[built]["with"].get("push") is None and steps[built]["with"]["load"] is True
    assert steps[published]["if"] == "startsWith(github.ref, 'refs/tags/v')"
    assert steps[published]["with"]["push"] is True
    meta = next(s for s in steps if s.get("uses", "").startswith("docker/metadata-action"))
    assert meta["with"]["images"] == "${{ env.IMAGE }}" and workflow["env"]["IMAGE"].startswith("ghcr.io/")
    assert "type=semver,pattern={{version}}" in meta["with"]["tags"]


def test_compose_and_the_manifest_default_to_the_image_this_version_publishes():
    """The release job refuses a tag whose version differs from the binary's or from these defaults; here the
    three agree today, so `docker compose up` pulls what the release of this version publishes."""
    version = re.search(r'version: "([0-9.]+)"', (REPO_DIR / "Sources" / "clearml-probe" / "Entry.swift")
                        .read_text()).group(1)
    expected = f"ghcr.io/clearml-probe/clearml-probe:{version}"
    assert f"${{CLEARML_PROBE_IMAGE:-{expected}}}" in (COMPOSE_DIR / "compose.yaml").read_text()
    assert f"image: {expected}" in MANIFEST.read_text()
    check = next(s for s in yaml.safe_load(WORKFLOW.read_text())["jobs"]["image"]["steps"]
                 if s.get("name", "").startswith("The tag, the binary"))
    assert "Entry.swift" in check["run"] and "compose/compose.yaml" in check["run"]
    readme = (COMPOSE_DIR / "README.md").read_text()
    assert "docker build -t clearml-probe:local" in readme, "the README says how to build the image locally"


def test_manifest_matches_the_kubernetes_schemas():
    result = subprocess.run([tool("kubernetes-validate"), "--strict", str(MANIFEST)], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("passed") == 4, result.stdout


def test_checkov_passes_the_dockerfile_and_the_manifest():
    checkov = tool(os.path.join(TOOLS_DIR, "checkov", "bin", "checkov"))
    result = subprocess.run([checkov, "--compact", "--skip-download", "--output", "json",
                             "--framework", "dockerfile", "kubernetes",
                             "-f", str(REPO_DIR / "Dockerfile"), "-f", str(MANIFEST)],
                            capture_output=True, text=True, timeout=600, env={**os.environ, "LOG_LEVEL": "ERROR"})
    reports = json.loads(result.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    assert {r["check_type"] for r in reports} == {"dockerfile", "kubernetes"}
    for report in reports:
        failed = report["results"]["failed_checks"]
        assert not failed, [(c["check_id"], c["check_name"], c["file_path"]) for c in failed]
        for skipped in report["results"].get("skipped_checks", []):
            reason = skipped.get("check_result", {}).get("suppress_comment", "")
            assert len(reason) > 20, f"{skipped['check_id']} skipped without a reason"
        assert report["summary"]["passed"] > 50
    assert result.returncode == 0, result.stderr[-2000:]
