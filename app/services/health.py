"""Is the database there, and at the schema this code expects?"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from app.db.migrate import head_revision


def database_state(factory: sessionmaker[Session]) -> str | None:
    """None when the database answers at the latest revision; else what is wrong, for an operator."""
    try:
        with factory() as session:
            revision = session.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except Exception:
        return "not migrated: run `python -m app migrate`" if _reachable(factory) else "unreachable"
    if revision != head_revision():
        return f"at revision {revision}, not {head_revision()}: migrate"
    return None


def _reachable(factory: sessionmaker[Session]) -> bool:
    try:
        with factory() as session:
            session.execute(text("SELECT 1"))
        return True
    except Exception:
        return False
