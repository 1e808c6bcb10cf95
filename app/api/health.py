from __future__ import annotations

from functools import lru_cache

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from app.api.schemas import HealthOut

router = APIRouter(tags=["health"])


@router.get("/api/health", response_model=HealthOut, responses={503: {"model": HealthOut}})
def health(request: Request) -> JSONResponse | HealthOut:
    """Liveness and database reachability, for load balancers and `make run` users alike."""
    try:
        with request.app.state.sessionmaker() as session:
            revision = session.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except Exception:
        with_schema = _reachable(request)
        state = "not migrated: run `python -m app migrate`" if with_schema else "unreachable"
        return JSONResponse(status_code=503, content={"status": "unavailable", "database": state})
    if revision != _head():
        return JSONResponse(
            status_code=503,
            content={"status": "unavailable", "database": f"at revision {revision}, not {_head()}: migrate"},
        )
    return HealthOut(status="ok", database="ok")


def _reachable(request: Request) -> bool:
    try:
        with request.app.state.sessionmaker() as session:
            session.execute(text("SELECT 1"))
        return True
    except Exception:
        return False


@lru_cache(maxsize=1)
def _head() -> str | None:
    from alembic.script import ScriptDirectory

    from app.config import PROJECT_ROOT
    from app.db.migrate import alembic_config

    return ScriptDirectory.from_config(alembic_config(f"sqlite:///{PROJECT_ROOT}/unused.db")).get_current_head()
