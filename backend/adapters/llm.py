"""The LLM: Ollama through the official ``ollama`` AsyncClient, with a model fallback chain.

Every call streams. A model is abandoned for the next one in the chain when it errors (HTTP error, rate
limit 429, unknown model, connection refused) or sends no first token within ``first_token_timeout``.
Structured calls send the pydantic JSON schema as ``format``, validate the answer, ask once for a repair
when it does not validate, and then fail with :class:`LLMInvalidOutput`. When no model answers, the adapter
stays "down" for ``retry_after`` seconds so that every caller falls back to degraded mode at once instead of
waiting on timeouts again.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import httpx
import structlog
from ollama import AsyncClient, ResponseError
from pydantic import BaseModel, ValidationError

from backend.errors import LLMError
from backend.settings import LLMSettings

__all__ = ("Answer", "LLMError", "LLMInvalidOutput", "LLMStatus", "LLMUnavailable", "OllamaLLM")

log = structlog.get_logger(__name__)

T = TypeVar("T", bound=BaseModel)
Message = Mapping[str, str]


class LLMUnavailable(LLMError):
    """No model in the chain answered (down, rate limited, too slow, or not configured)."""


class LLMInvalidOutput(LLMError):
    """The model answered, but not in the requested structure, even after one repair request."""


@dataclass(frozen=True, slots=True)
class Answer(Generic[T]):
    value: T
    model: str
    raw: str


@dataclass(frozen=True, slots=True)
class LLMStatus:
    state: str  # "up" | "degraded" | "off"
    model: str | None
    detail: str

    def as_json(self) -> dict[str, Any]:
        return {"llm": self.state, "model": self.model, "detail": self.detail}


# Errors after which the next model in the chain is tried.
_MODEL_FAILURES = (ResponseError, ConnectionError, httpx.HTTPError, TimeoutError)


def _describe_failure(exc: BaseException) -> str:
    if isinstance(exc, ResponseError):
        return f"HTTP {exc.status_code}: {exc.error}" if exc.status_code > 0 else str(exc.error)
    if isinstance(exc, TimeoutError):
        return "no first token in time"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


class OllamaLLM:
    def __init__(self, settings: LLMSettings, client: AsyncClient | None = None) -> None:
        self.settings = settings
        self.chain = settings.chain
        self.enabled = bool(settings.host)
        timeout = httpx.Timeout(settings.request_timeout, connect=min(5.0, settings.request_timeout))
        self._client = client or (AsyncClient(host=settings.host, timeout=timeout) if self.enabled else None)
        self._down_until = 0.0
        self._status = LLMStatus("up" if self.enabled else "off", None, "" if self.enabled else "no LLM configured")
        self.listeners: list[Callable[[LLMStatus], None]] = []

    @property
    def status(self) -> LLMStatus:
        return self._status

    def available(self) -> bool:
        """False while no LLM is configured or it recently failed (callers skip building prompts)."""
        return self.enabled and time.monotonic() >= self._down_until

    def _set_status(self, status: LLMStatus) -> None:
        if status != self._status:
            self._status = status
            log.info("llm_status", **status.as_json())
            for listener in self.listeners:
                listener(status)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()  # type: ignore[no-untyped-call]  # ollama leaves it unannotated

    async def probe(self) -> LLMStatus:
        """Ask Ollama which models it has (at start-up), so the cockpit knows the mode before the first answer."""
        if self._client is None:
            return self._status
        try:
            async with asyncio.timeout(min(5.0, self.settings.request_timeout)):
                listed = await self._client.list()
        except _MODEL_FAILURES as exc:
            self._set_status(LLMStatus("degraded", None, f"Ollama not reachable: {_describe_failure(exc)}"))
            return self._status
        available = {m.model for m in listed.models}
        usable = [m for m in self.chain if m in available]
        if not usable:
            detail = f"none of the models {', '.join(self.chain)} is pulled in Ollama"
            self._set_status(LLMStatus("degraded", None, detail))
        else:
            state = "up" if usable[0] == self.chain[0] else "degraded"
            missing = [m for m in self.chain if m not in available]
            self._set_status(LLMStatus(state, usable[0], f"not pulled: {', '.join(missing)}" if missing else ""))
        return self._status

    # ---- streaming with fallback ------------------------------------------------------------------------

    async def _open(
        self, model: str, messages: Sequence[Message], fmt: dict[str, Any] | None
    ) -> tuple[str, AsyncIterator[Any]]:
        """Start a streamed chat; return the first content (may be "") once a first token arrived."""
        assert self._client is not None
        think: bool | str | None = {"": None, "true": True, "false": False}.get(
            self.settings.think, self.settings.think
        )
        stream: AsyncIterator[Any] = await self._client.chat(
            model=model, messages=list(messages), stream=True, format=fmt, think=think
        )
        try:
            async with asyncio.timeout(self.settings.first_token_timeout):
                async for part in stream:
                    if part.message.content or part.message.thinking or part.done:
                        return part.message.content or "", stream
        except BaseException:
            await _close(stream)
            raise
        return "", stream

    async def _stream(
        self, messages: Sequence[Message], fmt: dict[str, Any] | None, start: int = 0
    ) -> tuple[str, str, AsyncIterator[Any]]:
        """(model, first content, rest of the stream) from the first model in the chain that starts answering."""
        if not self.available():
            raise LLMUnavailable(self._status.detail or "LLM unavailable")
        failures = []
        for model in self.chain[start:]:
            try:
                first, stream = await self._open(model, messages, fmt)
            except _MODEL_FAILURES as exc:
                failures.append(f"{model}: {_describe_failure(exc)}")
                log.warning("llm_model_failed", model=model, reason=failures[-1])
                continue
            detail = "; ".join(failures) if failures else ""
            self._set_status(LLMStatus("up" if model == self.chain[0] else "degraded", model, detail))
            return model, first, stream
        detail = "; ".join(failures)
        self._down_until = time.monotonic() + self.settings.retry_after
        self._set_status(LLMStatus("degraded", None, detail))
        raise LLMUnavailable(detail)

    async def stream_text(self, messages: Sequence[Message]) -> AsyncIterator[tuple[str, str]]:
        """Yield ``(model, delta)`` of a free-text answer (the advisor chat)."""
        model, first, stream = await self._stream(messages, None)
        try:
            if first:
                yield model, first
            async for part in stream:
                if part.message.content:
                    yield model, part.message.content
        except _MODEL_FAILURES as exc:
            raise LLMUnavailable(f"{model}: {_describe_failure(exc)}") from exc
        finally:
            await _close(stream)

    async def _collect(
        self, messages: Sequence[Message], schema: type[BaseModel], on_text: Callable[[str], None] | None
    ) -> tuple[str, str]:
        """The whole structured answer as text; a model failing mid-answer hands over to the next one."""
        start = 0
        while True:
            model, first, stream = await self._stream(messages, _json_schema(schema), start)
            text = first
            try:
                if on_text is not None:
                    on_text(text)
                async for part in stream:
                    if part.message.content:
                        text += part.message.content
                        if on_text is not None:
                            on_text(text)
                return model, text
            except _MODEL_FAILURES as exc:
                log.warning("llm_model_failed", model=model, reason=_describe_failure(exc))
                start = self.chain.index(model) + 1
                if start >= len(self.chain):
                    raise LLMUnavailable(f"{model}: {_describe_failure(exc)}") from exc
            finally:
                await _close(stream)

    async def structured(
        self, messages: Sequence[Message], schema: type[T], on_text: Callable[[str], None] | None = None
    ) -> Answer[T]:
        """A validated instance of ``schema``. ``on_text`` sees the growing raw JSON (for streaming moves)."""
        async with asyncio.timeout(self.settings.request_timeout):
            model, text = await self._collect(messages, schema, on_text)
            try:
                return Answer(schema.model_validate_json(text), model, text)
            except ValidationError as exc:
                problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'answer'}: {e['msg']}" for e in exc.errors())
                log.warning("llm_invalid_output", model=model, problems=problems)
            repair = [
                *messages,
                {"role": "assistant", "content": text},
                {
                    "role": "user",
                    "content": f"That answer is not valid ({problems[:500]}). "
                    "Answer again with only the JSON object that matches the schema.",
                },
            ]
            model, text = await self._collect(repair, schema, on_text)
            try:
                return Answer(schema.model_validate_json(text), model, text)
            except ValidationError as exc:
                raise LLMInvalidOutput(
                    f"{model} gave invalid {schema.__name__} twice: {exc.errors()[0]['msg']}"
                ) from exc


@functools.cache
def _json_schema(schema: type[BaseModel]) -> dict[str, Any]:
    return schema.model_json_schema()


async def _close(stream: AsyncIterator[Any]) -> None:
    aclose = getattr(stream, "aclose", None)
    if aclose is not None:
        await aclose()
