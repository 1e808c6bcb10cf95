"""Timer workers on PostgreSQL: several worker processes, and a worker killed mid-batch, fire every
due deadline exactly once (one breach event, one fired timer row, one escalation task per case)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.clock import FixedClock
from app.db.models import AuditEvent, HumanTask, ProcessInstance, Timer, User
from app.db.session import begin_write, make_engine, make_sessionmaker
from app.services import auth, cases, definitions
from tests.bpmn_builder import diagram, user_task
from tests.worker_processes import spawn_worker, stop_workers

ROOT = Path(__file__).resolve().parents[1]
KEY = "workers_d1"
WAIT_SECONDS = 120.0


def _require_postgresql(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("worker concurrency is tested on PostgreSQL (set TEST_DATABASE_URL)")


def _start_due_cases(factory: sessionmaker[Session], clock: FixedClock, count: int) -> list[str]:
    """Deploy a one-task diagram whose D1 deadline is the end of the received day, then start cases."""
    task = user_task(
        "forward", boundary_timer="end_of_day(received_on)", interrupting=False, time_date=True, deadline="D1"
    )
    with factory() as session:
        definitions.deploy(session, diagram(KEY, [("forward", task)]), "w.bpmn", {}, "setup", clock)
    with factory() as session:
        admin = session.scalar(select(User).where(User.username == "admin"))
        assert admin is not None
        principal = auth.principal_of(admin)
    ids = []
    for i in range(count):
        with factory() as session:
            begin_write(session)
            definition = definitions.get_definition(session, KEY)
            instance = cases.start(session, definition, f"W-{i:04d}", {"received_on": "2024-03-19"}, principal, clock)
            ids.append(instance.id)
    return ids


def _due_count(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return (
            session.scalar(select(func.count()).where(Timer.status == "armed", Timer.due_at <= datetime.now(UTC))) or 0
        )


def _fired_count(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return session.scalar(select(func.count()).where(Timer.status == "fired")) or 0


def _wait_until_none_due(factory: sessionmaker[Session], workers: list[subprocess.Popen[bytes]]) -> float:
    started = time.monotonic()
    while time.monotonic() - started < WAIT_SECONDS:
        if _due_count(factory) == 0:
            return time.monotonic() - started
        assert all(w.poll() is None for w in workers), "a worker exited on its own"
        time.sleep(0.5)
    pytest.fail(f"timers still due after {WAIT_SECONDS} s: {_due_count(factory)}")


def _assert_exactly_once(factory: sessionmaker[Session], ids: list[str]) -> None:
    with factory() as session:
        assert session.scalar(
            select(func.count()).select_from(ProcessInstance).where(ProcessInstance.id.in_(ids))
        ) == len(ids)
        breaches: dict[str, int] = defaultdict(int)
        seqs: dict[str, list[int]] = defaultdict(list)
        for instance_id, type_, seq in session.execute(
            select(AuditEvent.instance_id, AuditEvent.type, AuditEvent.seq)
            .where(AuditEvent.instance_id.in_(ids))
            .order_by(AuditEvent.instance_id, AuditEvent.seq)
        ):
            seqs[instance_id].append(seq)
            if type_ == "deadline_breached":
                breaches[instance_id] += 1
        timers: dict[str, list[str]] = defaultdict(list)
        for instance_id, status in session.execute(
            select(Timer.instance_id, Timer.status).where(Timer.instance_id.in_(ids))
        ):
            timers[instance_id].append(status)
        late: dict[str, int] = defaultdict(int)
        for (instance_id,) in session.execute(
            select(HumanTask.instance_id).where(HumanTask.instance_id.in_(ids), HumanTask.task_spec == "forward_late")
        ):
            late[instance_id] += 1
    bad_breach = {i: breaches[i] for i in ids if breaches[i] != 1}
    bad_timer = {i: timers[i] for i in ids if timers[i] != ["fired"]}
    bad_late = {i: late[i] for i in ids if late[i] != 1}
    bad_seq = {i: seqs[i] for i in ids if seqs[i] != list(range(1, len(seqs[i]) + 1))}
    assert not bad_breach, (
        f"{len(bad_breach)} cases without exactly one deadline_breached: {list(bad_breach.items())[:5]}"
    )
    assert not bad_timer, f"{len(bad_timer)} cases without exactly one fired timer: {list(bad_timer.items())[:5]}"
    assert not bad_late, f"{len(bad_late)} cases without exactly one escalation task: {list(bad_late.items())[:5]}"
    assert not bad_seq, f"{len(bad_seq)} cases with audit seq gaps/duplicates: {list(bad_seq.items())[:5]}"


def _logs(tmp_path: Path) -> str:
    return "\n".join(p.read_text(errors="replace") for p in sorted(tmp_path.glob("worker*.log")))


def test_three_workers_fire_500_due_timers_exactly_once(prepared_db, clock, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _require_postgresql(prepared_db)
    engine = make_engine(prepared_db)
    factory = make_sessionmaker(engine)
    workers: list[subprocess.Popen[bytes]] = []
    try:
        t0 = time.monotonic()
        ids = _start_due_cases(factory, clock, 500)
        print(f"\nstarted 500 cases in {time.monotonic() - t0:.1f} s")
        assert _due_count(factory) == 500
        workers = [spawn_worker(prepared_db, tmp_path / f"worker{n}.log") for n in range(3)]
        took = _wait_until_none_due(factory, workers)
        print(f"3 workers fired 500 due timers in {took:.1f} s")
        stop_workers(workers)
        assert "Traceback" not in _logs(tmp_path), _logs(tmp_path)[-5000:]
        _assert_exactly_once(factory, ids)
    finally:
        stop_workers(workers)
        engine.dispose()


def test_a_worker_killed_mid_batch_loses_and_duplicates_nothing(prepared_db, clock, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _require_postgresql(prepared_db)
    engine = make_engine(prepared_db)
    factory = make_sessionmaker(engine)
    workers: list[subprocess.Popen[bytes]] = []
    try:
        ids = _start_due_cases(factory, clock, 300)
        assert _due_count(factory) == 300
        first = spawn_worker(prepared_db, tmp_path / "worker0.log")
        workers.append(first)
        started = time.monotonic()
        fired = 0
        while time.monotonic() - started < WAIT_SECONDS:
            fired = _fired_count(factory)
            if fired >= 1:
                break
            assert first.poll() is None, "the worker exited on its own"
            time.sleep(0.02)
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=15)
        fired_at_kill = _fired_count(factory)
        print(f"\nkilled the worker after {fired} (then {fired_at_kill}) of 300 timers fired")
        assert 1 <= fired_at_kill < 300, "the kill did not land mid-batch"
        second = spawn_worker(prepared_db, tmp_path / "worker1.log")
        workers.append(second)
        took = _wait_until_none_due(factory, [second])
        print(f"a new worker fired the remaining {300 - fired_at_kill} in {took:.1f} s")
        stop_workers([second])
        assert "Traceback" not in _logs(tmp_path), _logs(tmp_path)[-5000:]
        _assert_exactly_once(factory, ids)
    finally:
        stop_workers(workers)
        engine.dispose()
