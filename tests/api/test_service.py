"""Health and the self-description of the API."""

from __future__ import annotations

from fastapi.testclient import TestClient

from app.api.app import create_app
from app.config import Settings


def test_health(api) -> None:  # type: ignore[no-untyped-def]
    r = api.client.get("/api/health")
    assert r.status_code == 200 and r.json() == {"status": "ok", "database": "ok"}


def test_health_is_503_when_the_database_does_not_answer() -> None:
    app = create_app(Settings(database_url="postgresql+psycopg://postgres@127.0.0.1:1/none?connect_timeout=2"))
    r = TestClient(app).get("/api/health")
    assert r.status_code == 503 and r.json()["database"] == "unreachable"


def test_openapi_describes_every_route(api) -> None:  # type: ignore[no-untyped-def]
    spec = api.client.get("/openapi.json").json()
    paths = spec["paths"]
    for path, method in [
        ("/api/health", "get"),
        ("/api/auth/token", "post"),
        ("/api/definitions", "get"),
        ("/api/definitions", "post"),
        ("/api/communications", "post"),
        ("/api/processes/{key}/instances", "post"),
        ("/api/instances", "get"),
        ("/api/instances/{instance_id}", "get"),
        ("/api/instances/{instance_id}/history", "get"),
        ("/api/instances/{instance_id}/messages/{name}", "post"),
        ("/api/tasks", "get"),
        ("/api/tasks/{task_id}", "get"),
        ("/api/tasks/{task_id}/claim", "post"),
        ("/api/tasks/{task_id}/unclaim", "post"),
        ("/api/tasks/{task_id}/complete", "post"),
    ]:
        assert method in paths.get(path, {}), (path, method)
    example = spec["components"]["schemas"]["CommunicationIn"]["examples"][0]
    assert example["reference"] == "AL KAZ 1/2024"
    assert api.client.get("/docs").status_code == 200
