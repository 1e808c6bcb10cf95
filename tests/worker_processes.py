"""Timer worker processes (`python -m app worker`), started and stopped for tests and benchmarks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def spawn_worker(database_url: str, log_path: Path, poll: float = 0.2) -> subprocess.Popen[bytes]:
    log = log_path.open("ab")
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "app", "worker", "--poll", str(poll)],
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": database_url},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    finally:
        log.close()


def stop_workers(workers: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM (a worker finishes its case and exits), then SIGKILL whatever is still running."""
    for w in workers:
        if w.poll() is None:
            w.send_signal(signal.SIGTERM)
    for w in workers:
        try:
            w.wait(timeout=15)
        except subprocess.TimeoutExpired:
            w.kill()
            w.wait(timeout=15)
