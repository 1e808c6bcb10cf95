"""Browser tests: the web pages served by a live uvicorn, driven in Debian's Chromium by Playwright.

Each test gets a fresh migrated, seeded and deployed SQLite database (the server-side suite covers
PostgreSQL; a browser run on both would double the slowest tests for no new path), a server on a
free port in a background thread with a FixedClock shared with the test, and a new browser context.

Skipped, with the reason, when /usr/bin/chromium, Playwright, the web pages or the built assets
(`make assets`) are missing; with E2E_REQUIRED=1 (set by .ci/run when Chromium and npm are present)
a missing prerequisite fails instead. Never `playwright install`: the browser is Debian's.

Screenshots go to test-artifacts/screenshots/; the key ones are also copied to docs/screenshots/
when missing there or when UPDATE_DOC_SCREENSHOTS=1.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from app.clock import FixedClock
from app.config import PROJECT_ROOT, Settings
from tests.conftest import DEMO_PASSWORD, START

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ASSETS = PROJECT_ROOT / "app" / "web" / "static" / "build" / "case-diagram.js"
ARTIFACTS = PROJECT_ROOT / "test-artifacts" / "screenshots"
DOC_SCREENSHOTS = PROJECT_ROOT / "docs" / "screenshots"
VIEWPORT = {"width": 1366, "height": 900}
TIMEOUT_MS = 15_000


def missing_prerequisite(pages: bool = False) -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is not installed (apt-get install -y chromium; .ci/run does it)"
    if importlib.util.find_spec("playwright") is None:
        return "Playwright for Python is not installed (pip install -e '.[dev]')"
    if not ASSETS.exists():
        return f"the web assets are not built ({ASSETS.relative_to(PROJECT_ROOT)}): run `make assets` (needs npm)"
    if pages and not (PROJECT_ROOT / "app" / "web" / "__init__.py").exists():
        return "the web pages (app/web) are not there"
    return None


def require(pages: bool = False) -> None:
    reason = missing_prerequisite(pages)
    if reason is None:
        return
    if os.environ.get("E2E_REQUIRED") == "1":
        pytest.fail(f"E2E_REQUIRED=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _e2e_prerequisites() -> None:
    require()


@pytest.fixture
def database_url(tmp_path: Path, sqlite_template: Path) -> Iterator[str]:
    """SQLite only (overrides the root fixture's backends for the browser tests)."""
    path = tmp_path / "app.db"
    shutil.copy(sqlite_template, path)
    yield f"sqlite:///{path}"


@dataclass
class LiveServer:
    url: str
    app: Any
    clock: FixedClock
    database_url: str


@pytest.fixture
def live_server(prepared_db: str, clock: FixedClock) -> Iterator[LiveServer]:
    require(pages=True)
    import uvicorn

    from app.api.app import create_app

    app = create_app(Settings(database_url=prepared_db, timer_worker="off"), clock=clock)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="e2e-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    yield LiveServer(f"http://127.0.0.1:{port}", app, clock, prepared_db)
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()
    app.state.engine.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium per test module (module scope keeps Playwright's loop away from other tests)."""
    require()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class Session:
    """One browser context (one person at a laptop) on the live server, with its page."""

    server: LiveServer
    context: Any
    page: Any
    errors: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return self.server.url + path

    def goto(self, path: str) -> Any:
        response = self.page.goto(self.url(path))
        self.page.wait_for_load_state("domcontentloaded")
        return response

    def shot(self, name: str, *, doc: str | None = None, full_page: bool = True) -> Path:
        """Screenshot into test-artifacts/screenshots/NAME.png; `doc` also copies it to docs/screenshots/."""
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{re.sub(r'[^a-zA-Z0-9_.-]+', '-', name)}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        if doc:
            target = DOC_SCREENSHOTS / f"{doc}.png"
            if not target.exists() or os.environ.get("UPDATE_DOC_SCREENSHOTS") == "1":
                DOC_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, target)
        return path


@pytest.fixture
def new_session(browser: Any, live_server: LiveServer) -> Iterator[Any]:
    """Opens browser contexts on the live server; every page's JavaScript errors fail the test."""
    sessions: list[Session] = []

    def open_session(locale: str = "ru-RU") -> Session:
        context = browser.new_context(viewport=VIEWPORT, locale=locale, timezone_id="Asia/Almaty")
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        session = Session(live_server, context, page)
        page.on("pageerror", lambda exc: session.errors.append(str(exc)))
        sessions.append(session)
        return session

    yield open_session
    errors = [e for s in sessions for e in s.errors]
    for s in sessions:
        s.context.close()
    assert not errors, f"JavaScript errors in the pages: {errors}"


@pytest.fixture
def session(new_session: Any) -> Session:
    return new_session()


__all__ = ["DEMO_PASSWORD", "START", "LiveServer", "Session"]
