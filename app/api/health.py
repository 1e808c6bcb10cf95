from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from app.api.schemas import HealthOut
from app.db.migrate import head_revision

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
    if revision != head_revision():
        return JSONResponse(
            status_code=503,
            content={"status": "unavailable", "database": f"at revision {revision}, not {head_revision()}: migrate"},
        )
    return HealthOut(status="ok", database="ok")


def _reachable(request: Request) -> bool:
    try:
        with request.app.state.sessionmaker() as session:
            session.execute(text("SELECT 1"))
        return True
    except Exception:
        return False
