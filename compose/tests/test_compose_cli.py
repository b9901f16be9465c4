"""A real Compose implementation reads the stack: docker-compose (1.29, Debian's; no engine needed for `config`)
on a copy of compose/ after init.sh. Compose v1 is stricter than v2 on the file format (no `name:`, no
`include:`), so passing it is a floor, not a ceiling."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from stack import COMPOSE_DIR

STRICT = os.environ.get("CLEARML_COMPOSE_TESTS_STRICT") == "1"
DOCKER_COMPOSE = shutil.which("docker-compose")


@pytest.fixture(scope="module")
def initialised(tmp_path_factory):
    if DOCKER_COMPOSE is None:
        if STRICT:
            pytest.fail("docker-compose is not installed (compose/tests/run.sh installs it)")
        pytest.skip("docker-compose is not installed (compose/tests/run.sh installs it)")
    target = tmp_path_factory.mktemp("stack") / "compose"
    shutil.copytree(COMPOSE_DIR, target, ignore=shutil.ignore_patterns("tests", "__pycache__", ".env", "config",
                                                                       "secrets"))
    result = subprocess.run(["sh", "init.sh", "--no-pull", "--server-image", "clearml/server:2.3.0-1"],
                            cwd=target, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return target


def compose(directory, *args: str) -> subprocess.CompletedProcess:
    env = {"PATH": os.environ["PATH"], "HOME": str(directory)}
    return subprocess.run([DOCKER_COMPOSE, *args], cwd=directory, env=env, capture_output=True, text=True,
                          timeout=120)


def test_docker_compose_accepts_the_initialised_stack(initialised):
    for args in (["config", "-q"], ["--profile", "agents", "config", "-q"]):
        result = compose(initialised, *args)
        assert result.returncode == 0, result.stderr


def test_docker_compose_refuses_the_stack_without_a_pinned_server_image(initialised):
    env_file = initialised / ".env"
    saved = env_file.read_text()
    try:
        shutil.copy(initialised / ".env.example", env_file)
        result = compose(initialised, "config", "-q")
        assert result.returncode != 0 and "CLEARML_SERVER_IMAGE" in result.stderr
    finally:
        env_file.write_text(saved)
