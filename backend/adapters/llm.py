"""The LLM: a model fallback chain over one model server (Ollama's API or any OpenAI-compatible server).

Every call streams. A model is abandoned for the next one in the chain when its server fails it (HTTP error,
rate limit 429, unknown model, connection refused), when the server's model list does not have it, or when it
sends no first token within ``first_token_timeout``. Structured calls send the pydantic JSON schema, validate the
answer, ask once for a repair when it does not validate, and then fail with :class:`LLMInvalidOutput`. When no
model answers, the chain stays "down" for ``retry_after`` seconds so that every caller falls back to degraded mode
at once instead of waiting on timeouts again. What differs between servers lives in the providers
(``llm_ollama``, ``llm_openai``, behind ``llm_provider.ChatProvider``).
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import structlog
from opentelemetry.trace import Span
from pydantic import BaseModel, ValidationError

from backend import metrics
from backend.adapters.llm_ollama import OllamaProvider
from backend.adapters.llm_openai import OpenAIProvider
from backend.adapters.llm_provider import ChatProvider, Chunk, Message, ModelFailed, Usage
from backend.errors import LLMError
from backend.settings import LLMSettings
from backend.tracing import tracer

__all__ = (
    "LLM",
    "Answer",
    "CallRecord",
    "LLMError",
    "LLMInvalidOutput",
    "LLMStatus",
    "LLMUnavailable",
    "provider_for",
)

log = structlog.get_logger(__name__)

T = TypeVar("T", bound=BaseModel)


class LLMUnavailable(LLMError):
    """No model in the chain answered (down, rate limited, too slow, or not configured)."""


class LLMInvalidOutput(LLMError):
    """The model answered, but not in the requested structure, even after one repair request."""


@dataclass(frozen=True, slots=True)
class Answer(Generic[T]):
    value: T
    model: str
    raw: str
    usage: Usage | None = None
    first_token_seconds: float | None = None


@dataclass(frozen=True, slots=True)
class LLMStatus:
    state: str  # "up" | "degraded" | "off"
    model: str | None
    detail: str

    def as_json(self) -> dict[str, Any]:
        return {"llm": self.state, "model": self.model, "detail": self.detail}


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One finished call, for the call log (names, outcome, times and token counts: never the text)."""

    at: float  # time.time() when it finished
    kind: str
    model: str
    outcome: str
    seconds: float
    first_token_seconds: float | None
    prompt_tokens: int | None
    completion_tokens: int | None


def provider_for(settings: LLMSettings) -> ChatProvider | None:
    """The provider ``SUFLER_LLM_API`` names, at ``SUFLER_LLM_HOST``; None when no host is set."""
    if not settings.host:
        return None
    if settings.api == "openai":
        key = settings.api_key.get_secret_value() if settings.api_key else None
        return OpenAIProvider(settings.host, key, settings.request_timeout)
    return OllamaProvider(settings.host, settings.request_timeout)


class _Stream:
    """An answer that has started: its model, the first text, and the rest of the chunks."""

    def __init__(self, model: str, first: Chunk, rest: AsyncIterator[Chunk], waited: float | None = None) -> None:
        self.model = model
        self.first_token_seconds = waited
        self.first = first
        self.rest = rest
        self.usage: Usage | None = first.usage

    async def texts(self) -> AsyncIterator[str]:
        """The answer's text deltas, from the first one on (usage is kept as it passes)."""
        if self.first.text:
            yield self.first.text
        async for chunk in self.rest:
            if chunk.usage is not None:
                self.usage = chunk.usage
            if chunk.text:
                yield chunk.text

    async def close(self) -> None:
        aclose = getattr(self.rest, "aclose", None)
        if aclose is not None:
            await aclose()


class LLM:
    def __init__(self, settings: LLMSettings, provider: ChatProvider | None = None) -> None:
        self.settings = settings
        self.chain = settings.chain
        self.provider = provider or provider_for(settings)
        self.enabled = self.provider is not None
        self._down_until = 0.0
        self._resting: dict[str, float] = {}  # model → when a 429's Retry-After ends
        self._served: frozenset[str] | None = None  # the server's model list; None: not known, try every model
        self._status = LLMStatus("up" if self.enabled else "off", None, "" if self.enabled else "no LLM configured")
        self.listeners: list[Callable[[LLMStatus], None]] = []
        self.recorders: list[Callable[[CallRecord], None]] = []  # each finished call (the database's call log)
        self.degraded_clock = metrics.DegradedClock()
        self.degraded_clock.state(self._status.state)

    @property
    def status(self) -> LLMStatus:
        return self._status

    def available(self) -> bool:
        """False while no LLM is configured or it recently failed (callers skip building prompts)."""
        return self.enabled and time.monotonic() >= self._down_until

    def _set_status(self, status: LLMStatus) -> None:
        if status != self._status:
            if status.state != self._status.state:
                self.degraded_clock.state(status.state)
            self._status = status
            log.info("llm_status", **status.as_json())
            for listener in self.listeners:
                listener(status)

    async def close(self) -> None:
        if self.provider is not None:
            await self.provider.close()

    async def _list_models(self) -> frozenset[str] | None:
        assert self.provider is not None
        try:
            async with asyncio.timeout(min(5.0, self.settings.request_timeout)):
                self._served = await self.provider.models()
        except (ModelFailed, TimeoutError):
            self._served = None
        return self._served

    async def probe(self) -> LLMStatus:
        """Ask the server which models it has (at start-up), so the cockpit knows the mode before the first answer."""
        if self.provider is None:
            return self._status
        served = await self._list_models()
        if served is None:
            self._set_status(LLMStatus("degraded", None, f"{self.provider.api} server not reachable"))
            return self._status
        usable = [m for m in self.chain if m in served]
        if not usable:
            detail = f"none of the models {', '.join(self.chain)} is served"
            self._set_status(LLMStatus("degraded", None, detail))
        else:
            state = "up" if usable[0] == self.chain[0] else "degraded"
            missing = [m for m in self.chain if m not in served]
            self._set_status(LLMStatus(state, usable[0], f"not served: {', '.join(missing)}" if missing else ""))
        return self._status

    # ---- streaming with fallback ------------------------------------------------------------------------

    def _skip_reason(self, model: str) -> str | None:
        """Why a model is not even asked: the server does not list it, or it asked us to wait (429)."""
        # A server with one model loaded may answer any name (llama.cpp does): only its list tells the truth.
        if self._served is not None and model not in self._served:
            return "not served by the server"
        if time.monotonic() < self._resting.get(model, 0.0):
            return "rate limited (429), waiting for its Retry-After"
        return None

    async def _open(
        self, model: str, kind: str, messages: Sequence[Message], schema: type[BaseModel] | None
    ) -> _Stream:
        """Start a streamed chat; return it once a first token (content or thinking) arrived."""
        assert self.provider is not None
        rest = self.provider.chat(
            model,
            messages,
            schema=(schema.__name__, _json_schema(schema)) if schema else None,
            max_tokens=self.settings.max_tokens_for(kind),
            think=self.settings.think,
        )
        started = time.monotonic()
        try:
            async with asyncio.timeout(self.settings.first_token_timeout):
                async for chunk in rest:
                    if chunk.text or chunk.thinking or chunk.usage:
                        waited = time.monotonic() - started
                        metrics.LLM_FIRST_TOKEN_SECONDS.labels(kind, model).observe(waited)
                        return _Stream(model, chunk, rest, waited)
        except BaseException:
            await _Stream(model, Chunk(), rest).close()
            raise
        return _Stream(model, Chunk(), rest)

    async def _stream(
        self, kind: str, messages: Sequence[Message], schema: type[BaseModel] | None, start: int = 0
    ) -> _Stream:
        """The stream of the first model in the chain (from ``start``) that starts answering."""
        if not self.available():
            raise LLMUnavailable(self._status.detail or "LLM unavailable")
        if self._served is None:
            await self._list_models()
        failures = []
        for model in self.chain[start:]:
            if reason := self._skip_reason(model):
                failures.append(f"{model}: {reason}")
                metrics.LLM_MODEL_FAILURES.labels(model, "not_served" if "served" in reason else "rate_limited").inc()
                continue
            try:
                stream = await self._open(model, kind, messages, schema)
            except (ModelFailed, TimeoutError) as exc:
                failures.append(f"{model}: {_describe(exc)}")
                log.warning("llm_model_failed", model=model, kind=kind, reason=failures[-1])
                metrics.LLM_MODEL_FAILURES.labels(model, "timeout" if isinstance(exc, TimeoutError) else "error").inc()
                if isinstance(exc, ModelFailed) and exc.retry_after:
                    self._resting[model] = time.monotonic() + exc.retry_after
                continue
            detail = "; ".join(failures) if failures else ""
            self._set_status(LLMStatus("up" if model == self.chain[0] else "degraded", model, detail))
            return stream
        detail = "; ".join(failures)
        self._down_until = time.monotonic() + self.settings.retry_after
        self._served = None  # ask the server again when the chain is next tried
        self._set_status(LLMStatus("degraded", None, detail))
        raise LLMUnavailable(detail)

    async def stream_text(self, kind: str, messages: Sequence[Message]) -> AsyncIterator[tuple[str, str]]:
        """Yield ``(model, delta)`` of a free-text answer (the advisor chat, the bots' answers)."""
        started, model, outcome, usage, first_token = time.monotonic(), "none", "unavailable", None, None
        span = tracer().start_span(f"llm {kind}")  # not made current: a generator's context does not hold across yields
        try:
            stream = await self._stream(kind, messages, None)
            model = stream.model
            try:
                async for delta in stream.texts():
                    yield stream.model, delta
                outcome = "ok" if model == self.chain[0] else "fallback"
            except ModelFailed as exc:
                raise LLMUnavailable(f"{stream.model}: {exc.detail}") from exc
            finally:
                await stream.close()
                usage, first_token = stream.usage, stream.first_token_seconds
        except (asyncio.CancelledError, GeneratorExit):
            outcome = "cancelled"  # superseded, or the reader stopped reading
            raise
        finally:
            self._count(span, kind, model, outcome, started, usage, first_token)

    def _count(
        self,
        span: Span,
        kind: str,
        model: str,
        outcome: str,
        started: float,
        usage: Usage | None,
        first_token: float | None,
    ) -> None:
        """One call's metrics and span attributes (names, counts and times only: never the text)."""
        seconds = time.monotonic() - started
        metrics.LLM_CALLS.labels(kind, model, outcome).inc()
        attributes: dict[str, str | int | float] = {
            "sufler.llm.kind": kind, "gen_ai.request.model": model, "sufler.llm.outcome": outcome,
            "sufler.llm.seconds": round(seconds, 3),
        }  # fmt: skip
        if outcome in ("ok", "fallback"):
            metrics.LLM_SECONDS.labels(kind, model).observe(seconds)
        if usage is not None:
            for direction, tokens in (("prompt", usage.prompt_tokens), ("completion", usage.completion_tokens)):
                if tokens:
                    metrics.LLM_TOKENS.labels(kind, model, direction).inc(tokens)
                    attributes[f"gen_ai.usage.{'input' if direction == 'prompt' else 'output'}_tokens"] = tokens
        if first_token is not None:
            attributes["sufler.llm.first_token_seconds"] = round(first_token, 3)
        span.set_attributes(attributes)
        span.end()
        record = CallRecord(
            time.time(), kind, model, outcome, seconds, first_token,
            usage.prompt_tokens if usage else None, usage.completion_tokens if usage else None,
        )  # fmt: skip
        for recorder in self.recorders:
            recorder(record)

    async def _collect(
        self,
        kind: str,
        messages: Sequence[Message],
        schema: type[BaseModel],
        on_text: Callable[[str], None] | None,
    ) -> tuple[_Stream, str]:
        """The whole structured answer as text; a model failing mid-answer hands over to the next one."""
        start = 0
        while True:
            stream = await self._stream(kind, messages, schema, start)
            text = ""
            try:
                if on_text is not None:
                    on_text(text)
                async for delta in stream.texts():
                    text += delta
                    if on_text is not None:
                        on_text(text)
                return stream, text
            except ModelFailed as exc:
                log.warning("llm_model_failed", model=stream.model, kind=kind, reason=exc.detail)
                start = self.chain.index(stream.model) + 1
                if start >= len(self.chain):
                    raise LLMUnavailable(f"{stream.model}: {exc.detail}") from exc
            finally:
                await stream.close()

    async def structured(
        self,
        kind: str,
        messages: Sequence[Message],
        schema: type[T],
        on_text: Callable[[str], None] | None = None,
    ) -> Answer[T]:
        """A validated instance of ``schema``. ``on_text`` sees the growing raw JSON (for streaming moves).

        ``kind`` names the call (a prompt template: "assessment", "moves", ...), which sets its token limit.
        """
        started, model, outcome, usage, first_token = time.monotonic(), "none", "unavailable", None, None
        span = tracer().start_span(f"llm {kind}")
        try:
            answer = await self._structured(kind, messages, schema, on_text)
        except LLMInvalidOutput:
            outcome = "invalid"
            raise
        except TimeoutError as exc:
            raise LLMUnavailable(f"no complete answer within {self.settings.request_timeout:.0f} s") from exc
        except asyncio.CancelledError:
            outcome = "cancelled"
            raise
        else:
            model, outcome = answer.model, "ok" if answer.model == self.chain[0] else "fallback"
            usage, first_token = answer.usage, answer.first_token_seconds
            return answer
        finally:
            self._count(span, kind, model, outcome, started, usage, first_token)

    async def _structured(
        self, kind: str, messages: Sequence[Message], schema: type[T], on_text: Callable[[str], None] | None
    ) -> Answer[T]:
        async with asyncio.timeout(self.settings.request_timeout):
            stream, text = await self._collect(kind, messages, schema, on_text)
            try:
                return Answer(
                    schema.model_validate_json(text), stream.model, text, stream.usage, stream.first_token_seconds
                )
            except ValidationError as exc:
                problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'answer'}: {e['msg']}" for e in exc.errors())
                log.warning("llm_invalid_output", model=stream.model, kind=kind, problems=problems)
            repair = [
                *messages,
                {"role": "assistant", "content": text},
                {
                    "role": "user",
                    "content": f"That answer is not valid ({problems[:500]}). "
                    "Answer again with only the JSON object that matches the schema.",
                },
            ]
            stream, text = await self._collect(kind, repair, schema, on_text)
            try:
                return Answer(
                    schema.model_validate_json(text), stream.model, text, stream.usage, stream.first_token_seconds
                )
            except ValidationError as exc:
                raise LLMInvalidOutput(
                    f"{stream.model} gave invalid {schema.__name__} twice: {exc.errors()[0]['msg']}"
                ) from exc


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "no first token in time"
    return exc.detail if isinstance(exc, ModelFailed) else str(exc)


@functools.cache
def _json_schema(schema: type[BaseModel]) -> dict[str, Any]:
    return schema.model_json_schema()
