"""Ollama's own API (``/api/chat``, NDJSON streaming) through the official ``ollama`` AsyncClient."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

import httpx
from ollama import AsyncClient, ResponseError

from backend.adapters.llm_provider import Chunk, Message, ModelFailed, Usage

__all__ = ("OllamaProvider",)

# Errors after which the next model in the chain is tried.
_FAILURES = (ResponseError, ConnectionError, httpx.HTTPError)
_THINK: dict[str, bool | None] = {"": None, "true": True, "false": False}


def _failure(exc: BaseException) -> ModelFailed:
    if isinstance(exc, ResponseError):
        return ModelFailed(f"HTTP {exc.status_code}: {exc.error}" if exc.status_code > 0 else str(exc.error))
    return ModelFailed(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)


def _ms(nanoseconds: int | None) -> float | None:
    return nanoseconds / 1e6 if nanoseconds is not None else None


class OllamaProvider:
    api = "Ollama"

    def __init__(self, host: str, request_timeout: float) -> None:
        timeout = httpx.Timeout(request_timeout, connect=min(5.0, request_timeout))
        self._client = AsyncClient(host=host, timeout=timeout)

    async def models(self) -> frozenset[str]:
        try:
            listed = await self._client.list()
        except _FAILURES as exc:
            raise _failure(exc) from exc
        names = {m.model for m in listed.models if m.model}
        # Ollama answers "llama3" for "llama3:latest", so a chain may name either.
        return frozenset(names | {n.removesuffix(":latest") for n in names})

    async def chat(
        self,
        model: str,
        messages: Sequence[Message],
        *,
        schema: tuple[str, dict[str, Any]] | None,
        max_tokens: int,
        think: str,
    ) -> AsyncIterator[Chunk]:
        try:
            stream = await self._client.chat(
                model=model,
                messages=list(messages),
                stream=True,
                format=schema[1] if schema else None,
                think=_THINK.get(think, think),  # "low"/"medium"/"high" pass as they are
                options={"num_predict": max_tokens},
            )
            try:
                async for part in stream:
                    usage = None
                    if part.done:
                        usage = Usage(
                            prompt_tokens=part.prompt_eval_count,
                            completion_tokens=part.eval_count,
                            prompt_ms=_ms(part.prompt_eval_duration),
                            generation_ms=_ms(part.eval_duration),
                        )
                    if part.message.content or part.message.thinking or usage:
                        yield Chunk(part.message.content or "", bool(part.message.thinking), usage)
            finally:
                await stream.aclose()  # type: ignore[attr-defined]  # an async generator underneath
        except _FAILURES as exc:
            raise _failure(exc) from exc

    async def close(self) -> None:
        await self._client.close()  # type: ignore[no-untyped-call]  # ollama leaves it unannotated
