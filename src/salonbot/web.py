"""The HTTP app: the channels' webhook routes, ``/healthz`` and ``/readyz``."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from salonbot.bootstrap import Salonbot
from salonbot.migrate import head_revision


def create_web_app(
    app: Salonbot, routers: Sequence[APIRouter], workers_running: Callable[[], bool]
) -> FastAPI:
    web = FastAPI(title="salonbot", docs_url=None, redoc_url=None, openapi_url=None)
    head = head_revision()

    @web.get("/healthz")
    async def healthz() -> dict[str, str]:
        """The process is alive."""
        return {"status": "ok"}

    @web.get("/readyz")
    async def readyz() -> JSONResponse:
        """Ready for traffic: the database answers, its schema is at head, workers run."""
        checks: dict[str, bool] = {}
        try:
            async with app.engine.connect() as connection:
                version = await connection.scalar(text("SELECT version_num FROM alembic_version"))
            checks["database"] = True
            checks["migrations"] = version == head
        except (SQLAlchemyError, OSError):
            checks["database"] = checks["migrations"] = False
        checks["workers"] = workers_running()
        ready = all(checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "not ready", "checks": checks},
            status_code=200 if ready else 503,
        )

    for router in routers:
        web.include_router(router)
    return web
