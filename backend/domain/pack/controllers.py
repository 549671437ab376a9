"""HTTP views of the domain pack the cockpit shows on demand (a knowledge card's facts and strategies)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from litestar import Request, get
from litestar.params import FromPath, QueryParameter

from backend.db.models import User
from backend.errors import NotFound
from backend.services import ServicesDep

__all__ = ("knowledge_module",)


@get(
    "/knowledge/{slug:str}", summary="One knowledge module: facts (with verify marks) and strategies", tags=["copilot"]
)
async def knowledge_module(
    slug: FromPath[str],
    request: Request[User, str, Any],
    services: ServicesDep,
    language: Annotated[Literal["pl", "en"], QueryParameter(description="pl or en")] = "pl",
) -> dict[str, Any]:
    pack = services.pack
    module = pack.knowledge.get(slug)
    if module is None:
        raise NotFound(f"No knowledge module {slug!r}.")
    return {
        "slug": module.slug,
        "title": module.title.get(language),
        "summary": module.summary.get(language),
        "facts": [{"text": f.text.get(language), "verify": f.verify} for f in module.facts],
        "strategies": [s.get(language) for s in module.strategies],
    }
