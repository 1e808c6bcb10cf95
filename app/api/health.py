from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from app.api.schemas import HealthOut
from app.services.health import database_state

router = APIRouter(tags=["health"])


@router.get("/api/health", response_model=HealthOut, responses={503: {"model": HealthOut}})
def health(request: Request) -> JSONResponse | HealthOut:
    """Liveness and database reachability, for load balancers and `make run` users alike."""
    problem = database_state(request.app.state.sessionmaker)
    if problem is not None:
        return JSONResponse(status_code=503, content={"status": "unavailable", "database": problem})
    return HealthOut(status="ok", database="ok")
