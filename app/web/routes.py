"""All page routes, for create_app to include; static files are mounted at /static beside them."""

from __future__ import annotations

from fastapi import APIRouter

from app.web.pages import auth, calendar, cases, delegations, reports, start, tasks
from app.web.render import STATIC_DIR

router = APIRouter(include_in_schema=False)
for module in (auth, tasks, cases, start, calendar, delegations, reports):
    router.include_router(module.router)

__all__ = ["STATIC_DIR", "router"]
