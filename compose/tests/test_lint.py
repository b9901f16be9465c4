"""The Dockerfile passes hadolint, every shell script passes shellcheck."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from stack import COMPOSE_DIR, REPO_DIR

STRICT = os.environ.get("CLEARML_COMPOSE_TESTS_STRICT") == "1"


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        if STRICT:
            pytest.fail(f"{name} is not installed (compose/tests/run.sh installs it)")
        pytest.skip(f"{name} is not installed (compose/tests/run.sh installs it)")
    return path


def shell_scripts() -> list[str]:
    scripts = sorted(str(p) for p in COMPOSE_DIR.rglob("*.sh") if "__pycache__" not in p.parts)
    assert scripts
    return scripts


def test_dockerfile_passes_hadolint():
    result = subprocess.run([tool("hadolint"), "--failure-threshold", "info", str(REPO_DIR / "Dockerfile")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_shell_scripts_pass_shellcheck():
    result = subprocess.run([tool("shellcheck"), "--external-sources", *shell_scripts()],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_posix_scripts_declare_sh_and_are_executable():
    for script in shell_scripts():
        with open(script) as handle:
            first = handle.readline().strip()
        assert first in {"#!/bin/sh", "#!/usr/bin/env bash", "#!/bin/bash"}, f"{script}: {first}"
        assert os.access(script, os.X_OK), f"{script} is not executable"
