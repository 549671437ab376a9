"""A fake model server speaking two real wire protocols, for driving the real ``ollama`` and ``openai`` clients.

Ollama: ``POST /api/chat`` answers NDJSON chunks ``{"model", "created_at", "message": {"role", "content"},
"done": false}`` then a final ``"done": true`` chunk (or one JSON object when ``stream`` is false); failures are
HTTP errors with an ``{"error": "..."}`` body, or an ``{"error": ...}`` line mid-stream. ``GET /api/tags`` and
``GET /api/version`` exist too.

OpenAI-compatible (as vLLM and llama.cpp's server answer): ``POST /v1/chat/completions`` streams server-sent
events — a role-only first chunk, ``choices[0].delta.content`` pieces, a chunk with ``finish_reason`` ("length"
when ``max_tokens`` cut it), a usage chunk with no choices, then ``data: [DONE]``; failures are
``{"error": {"message", "type", "code"}}`` bodies (429 with ``Retry-After``), or a ``data: {"error": ...}`` event
mid-stream. ``GET /v1/models`` lists the models.

When the request asks for a JSON schema (Ollama's ``format``, OpenAI's ``response_format``) and no scripted reply
says otherwise, the answer is an instance of that schema whose strings quote what was typed last (the prompt's
last ``<observation>``, ``<question>`` or ``<customer>`` element, else its end), so that tests can see their input
travel through the prompt and back.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tests.fakes.asgi import json_response, lifespan, read_body
from tests.helpers import serving

Scope = dict[str, Any]


@dataclass
class Reply:
    content: str | None = None  # None: generated from the request (format schema or echo)
    status: int = 200
    error: str = "internal error"
    first_token_delay: float = 0.0
    chunk_delay: float = 0.0
    chunk_size: int = 16
    fail_after_chunks: int | None = None  # send an {"error"} line after this many chunks
    retry_after: int | None = None  # the Retry-After header of an error answer


@dataclass
class FakeModelServer:
    models: set[str] = field(default_factory=lambda: {"gpt-oss:120b", "gpt-oss:20b"})
    scripts: dict[str, deque[Reply]] = field(default_factory=lambda: defaultdict(deque))
    default: Reply = field(default_factory=Reply)
    requests: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""
    respond: Callable[[dict[str, Any]], str] | None = None  # custom content generator
    headers: list[dict[str, str]] = field(default_factory=list)  # of each OpenAI-style request

    def script(self, model: str, *replies: Reply) -> None:
        self.scripts[model].extend(replies)

    def chats(self, model: str | None = None) -> list[dict[str, Any]]:
        return [r for r in self.requests if model is None or r.get("model") == model]

    # ---- ASGI ----------------------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await lifespan(receive, send)
            return
        body = await read_body(receive)
        path, method = scope["path"], scope["method"]
        if method == "GET" and path == "/api/version":
            await json_response(send, 200, {"version": "0.12.0"})
        elif method == "GET" and path == "/api/tags":
            await json_response(send, 200, {"models": [{"name": m, "model": m} for m in sorted(self.models)]})
        elif method == "POST" and path == "/api/chat":
            await self._chat(json.loads(body), send)
        elif method == "GET" and path == "/v1/models":
            data = [{"id": m, "object": "model", "created": 0, "owned_by": "fake"} for m in sorted(self.models)]
            await json_response(send, 200, {"object": "list", "data": data})
        elif method == "POST" and path == "/v1/chat/completions":
            self.headers.append({k.decode(): v.decode() for k, v in scope["headers"]})
            await self._chat_completions(json.loads(body), send)
        else:
            await json_response(send, 404, {"error": "not found"})

    async def _chat(self, request: dict[str, Any], send: Any) -> None:
        self.requests.append(request)
        model = request.get("model", "")
        if model not in self.models:
            await json_response(send, 404, {"error": f"model '{model}' not found"})
            return
        queue = self.scripts.get(model)
        reply = queue.popleft() if queue else self.default
        await asyncio.sleep(reply.first_token_delay)
        if reply.status != 200:
            await json_response(send, reply.status, {"error": reply.error})
            return
        content = reply.content if reply.content is not None else self._generate(request)
        if not request.get("stream", True):
            await json_response(send, 200, _chunk(model, content, done=True))
            return
        await send(
            {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/x-ndjson")]}
        )
        pieces = [content[i : i + reply.chunk_size] for i in range(0, len(content), reply.chunk_size)] or [""]
        for number, piece in enumerate(pieces):
            if reply.fail_after_chunks is not None and number >= reply.fail_after_chunks:
                await _line(send, {"error": reply.error})
                await send({"type": "http.response.body", "body": b""})
                return
            if number:
                await asyncio.sleep(reply.chunk_delay)
            await _line(send, _chunk(model, piece, done=False))
        await _line(send, _chunk(model, "", done=True))
        await send({"type": "http.response.body", "body": b""})

    def _generate(self, request: dict[str, Any]) -> str:
        if self.respond is not None:
            return self.respond(request)
        said = typed_text(last_user_text(request))[-60:].replace("\n", " ")
        schema = request.get("format")
        if "response_format" in request:
            schema = request["response_format"]["json_schema"]["schema"]
        if isinstance(schema, dict):
            return json.dumps(instance_of(schema, schema, said), ensure_ascii=False)
        return f"Advice about: {said}"

    # ---- the OpenAI-compatible API ---------------------------------------------------------------------------

    async def _chat_completions(self, request: dict[str, Any], send: Any) -> None:
        self.requests.append(request)
        model = request.get("model", "")
        if model not in self.models:
            message = f"The model `{model}` does not exist"
            await _openai_error(send, 404, message, "invalid_request_error", "model_not_found")
            return
        queue = self.scripts.get(model)
        reply = queue.popleft() if queue else self.default
        await asyncio.sleep(reply.first_token_delay)
        if reply.status != 200:
            await _openai_error(send, reply.status, reply.error, "server_error", None, reply.retry_after)
            return
        content = reply.content if reply.content is not None else self._generate(request)
        finish = "stop"
        limit = request.get("max_tokens") or request.get("max_completion_tokens")
        if limit is not None and len(content) > 4 * limit:  # ~4 characters a token, as the product estimates
            content, finish = content[: 4 * limit], "length"
        usage = {"prompt_tokens": 10, "completion_tokens": len(content) // 4 + 1, "total_tokens": 0}
        if not request.get("stream"):
            message = {"role": "assistant", "content": content}
            choice = {"index": 0, "message": message, "finish_reason": finish}
            await json_response(
                send, 200, {**_completion(model, "chat.completion"), "choices": [choice], "usage": usage}
            )
            return
        headers = [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await _event(send, _delta(model, {"role": "assistant", "content": ""}))
        pieces = [content[i : i + reply.chunk_size] for i in range(0, len(content), reply.chunk_size)]
        for number, piece in enumerate(pieces):
            if reply.fail_after_chunks is not None and number >= reply.fail_after_chunks:
                await _event(send, {"error": {"message": reply.error, "type": "server_error", "code": None}})
                await send({"type": "http.response.body", "body": b""})
                return
            if number:
                await asyncio.sleep(reply.chunk_delay)
            await _event(send, _delta(model, {"content": piece}))
        await _event(send, _delta(model, {}, finish))
        if (request.get("stream_options") or {}).get("include_usage"):
            await _event(send, {**_completion(model, "chat.completion.chunk"), "choices": [], "usage": usage})
        await send({"type": "http.response.body", "body": b"data: [DONE]\n\n"})


def _completion(model: str, kind: str) -> dict[str, Any]:
    return {"id": "chatcmpl-fake", "object": kind, "created": int(datetime.now(UTC).timestamp()), "model": model}


def _delta(model: str, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    choice = {"index": 0, "delta": delta, "finish_reason": finish}
    return {**_completion(model, "chat.completion.chunk"), "choices": [choice]}


async def _event(send: Any, data: dict[str, Any]) -> None:
    body = b"data: " + json.dumps(data, ensure_ascii=False).encode() + b"\n\n"
    await send({"type": "http.response.body", "body": body, "more_body": True})


async def _openai_error(
    send: Any, status: int, message: str, kind: str, code: str | None, retry_after: int | None = None
) -> None:
    headers = [(b"content-type", b"application/json")]
    if retry_after is not None:
        headers.append((b"retry-after", str(retry_after).encode()))
    body = {"error": {"message": message, "type": kind, "param": None, "code": code}}
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": json.dumps(body).encode()})


# The elements of a prompt that carry what a person typed just now (the rest is context and the task).
TYPED = re.compile(r"<(observation|question|customer)>.*?</\1>", re.DOTALL)


def typed_text(prompt: str) -> str:
    """The last typed element of a prompt with its tags (what the fake quotes back), else the prompt itself."""
    found = list(TYPED.finditer(prompt))
    return found[-1].group(0) if found else prompt


def last_user_text(request: dict[str, Any]) -> str:
    users = [m.get("content", "") for m in request.get("messages", []) if m.get("role") == "user"]
    return users[-1] if users else ""


def instance_of(schema: dict[str, Any], root: dict[str, Any], said: str, name: str = "value") -> Any:
    """A value that satisfies ``schema`` (the subset pydantic emits), its strings quoting ``said``."""
    if "$ref" in schema:
        return instance_of(root["$defs"][schema["$ref"].rsplit("/", 1)[-1]], root, said, name)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = [s for s in schema[key] if s.get("type") != "null"] or schema[key]
            return instance_of(options[0], root, said, name)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][len(said) % len(schema["enum"])]
    kind = schema.get("type")
    if kind == "object":
        return {k: instance_of(v, root, said, k) for k, v in schema.get("properties", {}).items()}
    if kind == "array":
        count = max(schema.get("minItems", 0), min(2, schema.get("maxItems", 2)))
        return [instance_of(schema.get("items", {}), root, said, name) for _ in range(count)]
    if kind in ("integer", "number"):
        return schema.get("minimum", 0)
    if kind == "boolean":
        return False
    if kind == "null":
        return None
    text = f"{name}: {said}"
    return text[: schema.get("maxLength", len(text))]


def _chunk(model: str, content: str, *, done: bool) -> dict[str, Any]:
    chunk: dict[str, Any] = {
        "model": model,
        "created_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "message": {"role": "assistant", "content": content},
        "done": done,
    }
    if done:
        chunk.update(done_reason="stop", total_duration=1, load_duration=1, prompt_eval_count=1, eval_count=1)
    return chunk


async def _line(send: Any, data: dict[str, Any]) -> None:
    await send({"type": "http.response.body", "body": json.dumps(data).encode() + b"\n", "more_body": True})


@asynccontextmanager
async def running(fake: FakeModelServer) -> AsyncIterator[FakeModelServer]:
    """Serve ``fake`` on a free loopback port (real HTTP over real sockets). ``url`` is the Ollama base URL; the
    OpenAI-compatible one is ``url + "/v1"``."""
    async with serving(fake) as url:
        fake.url = url
        yield fake
