"""Engines and sessions. SQLite gets WAL and BEGIN IMMEDIATE for writers so that two
concurrent use cases on one case serialise instead of failing with 'database is locked'."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

WRITE_OPTION = "app_write"


def make_engine(url: str, **kwargs: Any) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)
        _configure_sqlite(engine)
        return engine
    # No pre-ping (a round trip per checkout); a connection broken by a database restart fails one
    # request with 503 and is then discarded by the pool; recycling bounds idle connections' age.
    return create_engine(url, pool_recycle=1800, pool_size=10, max_overflow=20, **kwargs)


def _configure_sqlite(engine: Engine) -> None:
    # Writers of this process queue on a lock instead of SQLite's busy handler, which polls with
    # growing sleeps (up to 100 ms) and so makes waiters oversleep; BEGIN IMMEDIATE still guards
    # against other processes on the same file.
    writer_lock = threading.Lock()

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        if connection.get_execution_options().get(WRITE_OPTION):
            if not writer_lock.acquire(timeout=30):
                raise OperationalError("BEGIN IMMEDIATE", {}, TimeoutError("database is locked by other writers"))
            connection.info["writer_lock"] = True
            try:
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            except BaseException:
                _release(connection)
                raise
        else:
            connection.exec_driver_sql("BEGIN")

    def _release(connection: Any) -> None:
        if connection.info.pop("writer_lock", False):
            writer_lock.release()

    @event.listens_for(engine, "commit")
    def _on_commit(connection: Any) -> None:
        _release(connection)

    @event.listens_for(engine, "rollback")
    def _on_rollback(connection: Any) -> None:
        _release(connection)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def begin_write(session: Session) -> None:
    """Start the session's transaction as a writer (SQLite: take the write lock up front).

    Must be the first thing a write use case does with its session."""
    if session.in_transaction():
        raise RuntimeError("begin_write() must come before any other use of the session")
    session.connection(execution_options={WRITE_OPTION: True})


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    session = factory()
    try:
        yield session
    finally:
        session.close()
