"""Fixtures: every database test runs on SQLite and, when TEST_DATABASE_URL names one, on PostgreSQL.

Each test gets a fresh database copied from a template that alembic migrated once per session
(a file copy on SQLite, CREATE DATABASE ... TEMPLATE on PostgreSQL), so tests run the real
migrations without paying for them each time.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.api.app import create_app
from app.clock import FixedClock
from app.config import PROJECT_ROOT, Settings
from app.db.migrate import upgrade
from app.db.session import make_engine, make_sessionmaker
from app.services import definitions, users

DEMO_PASSWORD = "demo-password-123"
START = datetime(2024, 3, 19, 4, 0, tzinfo=UTC)  # 09:00 in Almaty, the day a communication arrives
PG_URL = os.environ.get("TEST_DATABASE_URL", "")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL.startswith("postgresql") else [])


class _PgTemplates:
    def __init__(self, url: str) -> None:
        self.url = make_url(url)
        self.admin = create_engine(self.url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        self.template = f"kz_tmpl_{os.getpid()}"
        self._recreate(self.template)
        prepare(self.url.set(database=self.template).render_as_string(hide_password=False))
        self.created: list[str] = []

    def _recreate(self, name: str) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))

    def new_database(self) -> str:
        name = f"kz_t_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"'))
        return self.url.set(database=name).render_as_string(hide_password=False)

    def drop(self, url: str) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))

    def close(self) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{self.template}" WITH (FORCE)'))
        self.admin.dispose()


def prepare(database_url: str) -> None:
    """Migrate, then what `make run` and `seed-demo` leave: demo users and every diagram deployed."""
    upgrade(database_url)
    engine = make_engine(database_url)
    factory = make_sessionmaker(engine)
    setup_clock = FixedClock(START)
    with factory() as session:
        users.seed_demo(session, DEMO_PASSWORD, setup_clock)
    with factory() as session:
        definitions.deploy_directory(session, PROJECT_ROOT / "bpmn", "setup", setup_clock)
    with factory() as session:
        definitions.deploy_file(
            session, PROJECT_ROOT / "tests" / "fixtures" / "bpmn" / "minimal.bpmn", "setup", setup_clock
        )
    engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    prepare(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_templates() -> Iterator[_PgTemplates | None]:
    if "postgresql" not in BACKENDS:
        yield None
        return
    templates = _PgTemplates(PG_URL)
    yield templates
    templates.close()


@pytest.fixture(params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path, pg_templates: _PgTemplates | None
) -> Iterator[str]:
    if request.param == "sqlite":
        path = tmp_path / "app.db"
        shutil.copy(sqlite_template, path)
        yield f"sqlite:///{path}"
        _replays_identically(request, f"sqlite:///{path}")
        return
    assert pg_templates is not None
    url = pg_templates.new_database()
    try:
        yield url
        _replays_identically(request, url)
    finally:
        pg_templates.drop(url)


# Issue 6 (replay): before a test's database goes away, every case the test created is replayed from
# its audit events and must come out identical to its stored state; a divergence fails the test (as
# an error in its teardown). A test that damages a case on purpose says so with
# @pytest.mark.replay_diverges("why"). tests/audit/test_replay.py shows that the check fails on a divergence.
REPLAY_CHECKS: list[tuple[int, float]] = []  # (cases replayed, seconds), one entry per test database


def _replays_identically(request: pytest.FixtureRequest, url: str) -> None:
    if request.node.get_closest_marker("replay_diverges") is not None:
        return
    import time

    from app.services.auditing import replay_database

    started = time.perf_counter()
    engine = make_engine(url)
    try:
        results = replay_database(make_sessionmaker(engine))
    finally:
        engine.dispose()
    REPLAY_CHECKS.append((len(results), time.perf_counter() - started))
    diverged = [r for r in results if not r.identical]
    if diverged:
        lines = [f"{r.instance_id} ({r.business_key}): {r.divergence}" for r in diverged[:5]]
        pytest.fail(f"{len(diverged)} of {len(results)} case(s) do not replay identically:\n" + "\n".join(lines))


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url)


@pytest.fixture
def prepared_db(database_url: str) -> str:
    """A database as `make run` and `seed-demo` leave it (copied from the session's template)."""
    return database_url


class Api:
    """A test client that logs in as demo users and remembers their tokens."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self._tokens: dict[str, str] = {}

    def headers(self, username: str) -> dict[str, str]:
        if username not in self._tokens:
            r = self.client.post("/api/auth/token", data={"username": username, "password": DEMO_PASSWORD})
            assert r.status_code == 200, r.text
            self._tokens[username] = r.json()["access_token"]
        return {"Authorization": f"Bearer {self._tokens[username]}"}

    def get(self, username: str, url: str, headers: dict[str, str] | None = None, **kw: object):  # type: ignore[no-untyped-def]
        return self.client.get(url, headers={**self.headers(username), **(headers or {})}, **kw)

    def post(self, username: str, url: str, headers: dict[str, str] | None = None, **kw: object):  # type: ignore[no-untyped-def]
        return self.client.post(url, headers={**self.headers(username), **(headers or {})}, **kw)


@pytest.fixture
def app_factory(prepared_db: str, clock: FixedClock):  # type: ignore[no-untyped-def]
    """Builds apps on the prepared database; each is a fresh 'server process' on the same data."""
    engines = []

    def build() -> Api:
        app = create_app(Settings(database_url=prepared_db), clock=clock)
        engines.append(app.state.engine)
        return Api(TestClient(app))

    yield build
    for engine in engines:
        engine.dispose()


@pytest.fixture
def api(app_factory) -> Api:  # type: ignore[no-untyped-def]
    return app_factory()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Issue 6: say how many cases the replay check above went through (divergences are errors)."""
    cases = sum(n for n, _ in REPLAY_CHECKS)
    if cases:
        seconds = sum(t for _, t in REPLAY_CHECKS)
        terminalreporter.write_line(
            f"replay check: {cases} case(s) from {len(REPLAY_CHECKS)} test database(s) replayed "
            f"in {seconds:.1f} s ({1000 * seconds / cases:.0f} ms per case)"
        )
