"""What the LLM chain (``backend.adapters.llm``) needs from a model server: one streamed chat call and a model list.

Two servers speak it: Ollama's own API (``llm_ollama``) and any OpenAI-compatible chat-completions server
(``llm_openai``: vLLM, llama.cpp's ``llama-server``, LM Studio, hosted APIs, Ollama's ``/v1``). A provider turns
its library's errors into :class:`ModelFailed`, so the fallback chain, the first-token timeout, the repair request
and degraded mode are written once, whichever server answers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ("ChatProvider", "Chunk", "Message", "ModelFailed", "Usage")

Message = Mapping[str, str]


class ModelFailed(Exception):
    """This model cannot answer now (server error, unknown model, refused, rate limited): try the next one.

    ``retry_after``: seconds the server asked us to leave this model alone (HTTP 429 ``Retry-After``).
    """

    def __init__(self, detail: str, retry_after: float | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class Usage:
    """What the server reported about one answer; None where it reports nothing."""

    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cached_tokens: int | None = None  # prompt tokens the server took from its prefix cache
    prompt_ms: float | None = None  # the server's own time reading the prompt (llama.cpp, Ollama)
    generation_ms: float | None = None  # ... and writing the answer


@dataclass(frozen=True, slots=True)
class Chunk:
    """One piece of a streamed answer. ``thinking``: the model is reasoning (that counts as a first token)."""

    text: str = ""
    thinking: bool = False
    usage: Usage | None = None  # on the last chunk, where the server reports it


class ChatProvider(Protocol):
    api: str  # how logs and status name the server's API ("Ollama", "OpenAI-compatible")

    async def models(self) -> frozenset[str]:
        """The model names the server serves now; raises :class:`ModelFailed` when it cannot be asked."""
        ...

    def chat(
        self,
        model: str,
        messages: Sequence[Message],
        *,
        schema: tuple[str, dict[str, Any]] | None,
        max_tokens: int,
        think: str,
    ) -> AsyncIterator[Chunk]:
        """Stream one answer. ``schema``: (name, JSON schema) the answer must match, or None for free text.

        Closing the iterator early closes the HTTP stream, which stops the server's work on it.
        """
        ...

    async def close(self) -> None: ...
