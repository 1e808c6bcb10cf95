"""The operator's command line, run as a user would run it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run(database_url: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    inherited = {k: v for k, v in os.environ.items() if k != "DEMO_PASSWORD"}
    full_env = {**inherited, "DATABASE_URL": database_url, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "app", *args], cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def empty_db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'fresh.db'}"


def test_fresh_database_migrate_deploy_seed(empty_db: str) -> None:
    assert "latest schema" in run(empty_db, "migrate").stdout
    r = run(empty_db, "deploy")
    assert r.returncode == 0 and "deployed: communication version 1" in r.stdout
    r = run(empty_db, "deploy", "bpmn")
    assert r.returncode == 0 and "unchanged: communication version 1" in r.stdout

    r = run(empty_db, "seed-demo")
    assert r.returncode == 0 and "mfa.officer" in r.stdout
    assert "generated password for the new demo users (shown once):" in r.stdout
    r = run(empty_db, "seed-demo")
    assert "nothing changed" in r.stdout and "password" not in r.stdout

    def create(username: str, member: str) -> subprocess.CompletedProcess[str]:
        return run(
            empty_db,
            "users",
            "create",
            username,
            "--member",
            member,
            "--password-env",
            "PW",
            env={"PW": "a-long-enough-password"},
        )

    r = create("mvd.adviser", "MVD:officer")
    assert r.returncode == 0 and "MVD:officer" in r.stdout
    r = create("mvd.adviser", "MVD:officer")
    assert r.returncode == 1 and "exists already" in r.stderr
    r = create("x.y", "NOWHERE:officer")
    assert r.returncode == 1 and "NOWHERE" in r.stderr


def test_deploy_reports_problems_with_lines(empty_db: str) -> None:
    run(empty_db, "migrate")
    r = run(empty_db, "deploy", "tests/fixtures/bpmn/invalid_task_outside_lane.bpmn")
    assert r.returncode == 1
    assert "'element_id': 'task_b'" in r.stderr and "'line': 27" in r.stderr
    r = run(empty_db, "deploy", "no/such/path")
    assert r.returncode == 2 and "no such file" in r.stderr


def test_every_command_has_help() -> None:
    for args in (
        ["--help"],
        ["serve", "--help"],
        ["migrate", "--help"],
        ["deploy", "--help"],
        ["seed-demo", "--help"],
        ["users", "create", "--help"],
    ):
        r = subprocess.run([sys.executable, "-m", "app", *args], cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert r.returncode == 0 and "usage:" in r.stdout, args
