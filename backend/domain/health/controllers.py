from __future__ import annotations

from typing import Any, Literal

from litestar import Request, Response, get
from pydantic import BaseModel

from backend.services import ServicesDep

CheckStatus = Literal["ok", "degraded", "down"]


class Health(BaseModel):
    status: CheckStatus
    checks: dict[str, CheckStatus]


@get("/health", tags=["operations"], summary="Liveness and dependencies; 503 when the database is down")
async def health(request: Request[Any, Any, Any], services: ServicesDep) -> Response[Health]:
    checks: dict[str, CheckStatus] = {}
    try:
        await services.db.ping()
        checks["database"] = "ok"
    except Exception:
        checks["database"] = "down"
    # The database is essential: without it nothing typed can be stored, so the service is down.
    if checks["database"] == "down":
        status: CheckStatus = "down"
    elif any(v != "ok" for v in checks.values()):
        status = "degraded"
    else:
        status = "ok"
    return Response(Health(status=status, checks=checks), status_code=503 if status == "down" else 200)
