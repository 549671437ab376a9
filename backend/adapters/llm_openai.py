"""Any OpenAI-compatible chat-completions server (vLLM, llama.cpp's ``llama-server``, LM Studio, hosted APIs,
Ollama's ``/v1``) through the official ``openai`` AsyncOpenAI client.

The official client rather than hand-written httpx: it parses the server-sent events (``data:`` lines, ``[DONE]``),
types every chunk, maps the ``{"error": {...}}`` bodies to exceptions with the status and the response, and closes
the HTTP stream when we stop reading (the server then stops generating). Its own retries are off
(``max_retries=0``): on an error the chain moves to the next model at once instead of waiting on the same one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

from openai import APIConnectionError, APIError, APIStatusError, AsyncOpenAI, Timeout, omit

from backend.adapters.llm_provider import Chunk, Message, ModelFailed, Usage

__all__ = ("OpenAIProvider",)

REASONING_EFFORTS = frozenset({"low", "medium", "high"})


def _failure(exc: APIError) -> ModelFailed:
    if isinstance(exc, APIStatusError):
        body = exc.body if isinstance(exc.body, dict) else {}
        message = body.get("message") or exc.message
        return ModelFailed(f"HTTP {exc.status_code}: {message}", _retry_after(exc.response))
    if isinstance(exc, APIConnectionError) and exc.__cause__ is not None:
        cause = exc.__cause__
        return ModelFailed(f"{type(cause).__name__}: {cause}" if str(cause) else type(cause).__name__)
    return ModelFailed(f"{type(exc).__name__}: {exc.message}")


def _retry_after(response: Any) -> float | None:
    try:
        return float(response.headers["retry-after"])
    except (KeyError, ValueError):
        return None  # absent, or an HTTP date: the chain's own retry_after applies


def _usage(chunk: Any) -> Usage | None:
    timings = (chunk.model_extra or {}).get("timings")  # llama.cpp's own timings, beside the standard usage
    usage = chunk.usage
    if usage is None and not timings:
        return None
    timings = timings if isinstance(timings, dict) else {}
    details = getattr(usage, "prompt_tokens_details", None)
    return Usage(
        prompt_tokens=usage.prompt_tokens if usage else None,
        completion_tokens=usage.completion_tokens if usage else None,
        cached_tokens=(details.cached_tokens if details else None) or timings.get("cache_n"),
        prompt_ms=timings.get("prompt_ms"),
        generation_ms=timings.get("predicted_ms"),
    )


class OpenAIProvider:
    api = "OpenAI-compatible"

    def __init__(self, base_url: str, api_key: str | None, request_timeout: float) -> None:
        # No key (a local server): the client insists on one, so it gets a placeholder, and each request omits the
        # Authorization header. OPENAI_API_KEY in the environment is never read: a key goes to the server it names.
        timeout = Timeout(request_timeout, connect=min(5.0, request_timeout))  # its own httpx's type
        self._client = AsyncOpenAI(base_url=base_url, api_key=api_key or "no-key", timeout=timeout, max_retries=0)
        self._headers: dict[str, Any] = {} if api_key else {"Authorization": omit}

    async def models(self) -> frozenset[str]:
        try:
            return frozenset([m.id async for m in self._client.models.list(extra_headers=self._headers)])
        except APIError as exc:
            raise _failure(exc) from exc

    async def chat(
        self,
        model: str,
        messages: Sequence[Message],
        *,
        schema: tuple[str, dict[str, Any]] | None,
        max_tokens: int,
        think: str,
    ) -> AsyncIterator[Chunk]:
        response_format: Any = omit
        if schema is not None:
            name, json_schema = schema
            response_format = {"type": "json_schema", "json_schema": {"name": name, "schema": json_schema}}
        try:
            # Plain dicts and strings where the client has TypedDicts and Literals of OpenAI's own models.
            stream = await self._client.chat.completions.create(  # type: ignore[call-overload]
                model=model,
                messages=list(messages),
                stream=True,
                stream_options={"include_usage": True},
                max_tokens=max_tokens,
                response_format=response_format,
                reasoning_effort=think if think in REASONING_EFFORTS else omit,
                extra_headers=self._headers,
            )
            try:
                async for chunk in stream:
                    text, thinking = "", False
                    if chunk.choices:
                        delta = chunk.choices[0].delta
                        text = delta.content or ""
                        # Reasoning models stream their thoughts beside the content (vLLM, llama.cpp).
                        extras = delta.model_extra or {}
                        thinking = bool(extras.get("reasoning_content") or extras.get("reasoning"))
                    usage = _usage(chunk)
                    if text or thinking or usage:
                        yield Chunk(text, thinking, usage)
            finally:
                await stream.close()
        except APIError as exc:
            raise _failure(exc) from exc

    async def close(self) -> None:
        await self._client.close()
