"""The LLM chain through both real clients — ``ollama`` (NDJSON) and ``openai`` (server-sent events) — against the
fake model server's two wire protocols (real HTTP on loopback). Every behaviour of the chain is checked on both."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from pydantic import BaseModel, Field

from backend.adapters.llm import LLM, LLMInvalidOutput, LLMUnavailable
from backend.runtime import bind_socket
from backend.settings import LLMSettings
from tests.fakes.model_server import FakeModelServer, Reply, running


class Verdict(BaseModel):
    label: str = Field(min_length=1)
    score: int = Field(ge=0, le=10)


@pytest.fixture
async def fake() -> AsyncIterator[FakeModelServer]:
    async with running(FakeModelServer()) as server:
        yield server


@pytest.fixture(params=["ollama", "openai"])
def api(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def make_llm(api: str) -> Callable[..., LLM]:
    def make(url: str, **overrides: object) -> LLM:
        host = f"{url}/v1" if api == "openai" else url
        # A first token within 1 s: the fake answers in milliseconds, a loaded machine can still take a few hundred.
        settings = LLMSettings(api=api, host=host, first_token_timeout=1.0, request_timeout=5, retry_after=0.2)
        return LLM(settings.model_copy(update=overrides))

    return make


def schema_sent(request: dict[str, Any]) -> Any:
    if "response_format" in request:
        assert request["response_format"]["type"] == "json_schema"
        return request["response_format"]["json_schema"]["schema"]
    return request.get("format")


MESSAGES = [{"role": "system", "content": "You judge."}, {"role": "user", "content": "Client asks about leasing"}]


async def test_structured_answer_streams_and_validates(fake: FakeModelServer, make_llm: Callable[..., LLM]) -> None:
    llm = make_llm(fake.url)
    seen: list[str] = []
    answer = await llm.structured("test", MESSAGES, Verdict, on_text=seen.append)
    await llm.close()
    assert answer.model == "gpt-oss:120b"
    assert "Client asks about leasing" in answer.value.label
    assert len(seen) > 2 and seen[-1] == answer.raw  # the JSON arrived in pieces
    request = fake.chats()[0]
    assert request["stream"] is True
    assert schema_sent(request) == Verdict.model_json_schema()
    assert request["messages"][-1]["content"] == "Client asks about leasing"
    assert llm.status.state == "up"


async def test_rate_limit_falls_back_to_the_next_model(fake: FakeModelServer, make_llm: Callable[..., LLM]) -> None:
    fake.script("gpt-oss:120b", Reply(status=429, error="too many requests"))
    llm = make_llm(fake.url)
    answer = await llm.structured("test", MESSAGES, Verdict)
    await llm.close()
    assert answer.model == "gpt-oss:20b"
    assert llm.status.state == "degraded" and "429" in llm.status.detail


async def test_slow_first_token_falls_back(fake: FakeModelServer, make_llm: Callable[..., LLM]) -> None:
    fake.script("gpt-oss:120b", Reply(first_token_delay=2.0))
    llm = make_llm(fake.url)
    answer = await llm.structured("test", MESSAGES, Verdict)
    await llm.close()
    assert answer.model == "gpt-oss:20b"
    assert "first token" in llm.status.detail


async def test_error_mid_stream_falls_back(fake: FakeModelServer, make_llm: Callable[..., LLM]) -> None:
    fake.script("gpt-oss:120b", Reply(fail_after_chunks=1, error="model runner crashed"))
    llm = make_llm(fake.url)
    answer = await llm.structured("test", MESSAGES, Verdict)
    await llm.close()
    assert answer.model == "gpt-oss:20b"


async def test_unknown_model_falls_back(fake: FakeModelServer, make_llm: Callable[..., LLM]) -> None:
    llm = make_llm(fake.url, models="missing:1b,gpt-oss:20b")
    answer = await llm.structured("test", MESSAGES, Verdict)
    await llm.close()
    assert answer.model == "gpt-oss:20b"


async def test_invalid_json_is_repaired_once(fake: FakeModelServer, make_llm: Callable[..., LLM]) -> None:
    good = json.dumps({"label": "fine", "score": 3})
    fake.script("gpt-oss:120b", Reply(content='{"label": "", "score": 99}'), Reply(content=good))
    llm = make_llm(fake.url)
    answer = await llm.structured("test", MESSAGES, Verdict)
    await llm.close()
    assert answer.value == Verdict(label="fine", score=3)
    repair = fake.chats()[-1]["messages"]
    assert repair[-2] == {"role": "assistant", "content": '{"label": "", "score": 99}'}
    assert "not valid" in repair[-1]["content"]


async def test_invalid_twice_is_a_typed_failure(fake: FakeModelServer, make_llm: Callable[..., LLM]) -> None:
    fake.script("gpt-oss:120b", Reply(content="not json"), Reply(content="[1, 2]"))
    llm = make_llm(fake.url)
    with pytest.raises(LLMInvalidOutput):
        await llm.structured("test", MESSAGES, Verdict)
    await llm.close()


async def test_nothing_listening_is_unavailable_and_stays_down_briefly(make_llm: Callable[..., LLM]) -> None:
    sock = bind_socket("127.0.0.1", 0)  # a port nobody answers HTTP on once closed
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    sock.close()
    llm = make_llm(url)
    with pytest.raises(LLMUnavailable, match=r"gpt-oss:120b.*gpt-oss:20b"):
        await llm.structured("test", MESSAGES, Verdict)
    assert llm.status.state == "degraded" and llm.status.model is None
    with pytest.raises(LLMUnavailable):  # within retry_after: no new attempt, no waiting
        await llm.structured("test", MESSAGES, Verdict)
    await llm.close()


async def test_no_host_means_off() -> None:
    llm = LLM(LLMSettings(host=""))
    assert llm.status.state == "off"
    with pytest.raises(LLMUnavailable):
        await llm.structured("test", MESSAGES, Verdict)


async def test_stream_text_yields_deltas(fake: FakeModelServer, make_llm: Callable[..., LLM]) -> None:
    fake.default = Reply(chunk_size=5)
    llm = make_llm(fake.url)
    deltas = [delta async for _, delta in llm.stream_text("test", MESSAGES)]
    await llm.close()
    assert len(deltas) > 3
    assert "".join(deltas) == "Advice about: Client asks about leasing"
    assert schema_sent(fake.chats()[0]) is None


async def test_probe_reports_the_model_in_use(fake: FakeModelServer, make_llm: Callable[..., LLM]) -> None:
    llm = make_llm(fake.url)
    assert (await llm.probe()).state == "up"
    fake.models = {"gpt-oss:20b"}
    status = await llm.probe()
    await llm.close()
    assert (status.state, status.model, status.detail) == ("degraded", "gpt-oss:20b", "not served: gpt-oss:120b")


async def test_probe_of_a_dead_server_is_degraded(make_llm: Callable[..., LLM]) -> None:
    sock = bind_socket("127.0.0.1", 0)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    sock.close()
    llm = make_llm(url)
    status = await llm.probe()
    await llm.close()
    assert status.state == "degraded" and "not reachable" in status.detail


async def test_a_model_the_server_does_not_list_is_not_asked(
    fake: FakeModelServer, make_llm: Callable[..., LLM]
) -> None:
    # A server with one model loaded may answer any name (llama.cpp does); the model list is what counts.
    fake.models = {"gpt-oss:20b"}
    llm = make_llm(fake.url)
    answer = await llm.structured("test", MESSAGES, Verdict)
    await llm.close()
    assert answer.model == "gpt-oss:20b"
    assert [r["model"] for r in fake.chats()] == ["gpt-oss:20b"]
    assert "gpt-oss:120b: not served" in llm.status.detail


async def test_each_call_kind_has_its_token_limit(
    fake: FakeModelServer, make_llm: Callable[..., LLM], api: str
) -> None:
    llm = make_llm(fake.url, max_tokens={"moves": 123})
    await llm.structured("moves", MESSAGES, Verdict)
    await llm.structured("strategy", MESSAGES, Verdict)
    await llm.close()
    sent = [r["max_tokens"] if api == "openai" else r["options"]["num_predict"] for r in fake.chats()]
    assert sent == [123, llm.settings.max_tokens_for("strategy")] and sent[1] > 0


async def test_a_server_error_body_is_reported_and_the_chain_moves_on(
    fake: FakeModelServer, make_llm: Callable[..., LLM]
) -> None:
    fake.script("gpt-oss:120b", Reply(status=400, error="the request exceeds the available context size"))
    llm = make_llm(fake.url)
    answer = await llm.structured("test", MESSAGES, Verdict)
    await llm.close()
    assert answer.model == "gpt-oss:20b"
    assert "HTTP 400: the request exceeds the available context size" in llm.status.detail


async def test_openai_rate_limit_rests_the_model_for_its_retry_after(fake: FakeModelServer) -> None:
    fake.script("gpt-oss:120b", Reply(status=429, error="Rate limit reached", retry_after=30))
    settings = LLMSettings(api="openai", host=f"{fake.url}/v1", first_token_timeout=0.5, request_timeout=5)
    llm = LLM(settings)
    first = await llm.structured("test", MESSAGES, Verdict)
    second = await llm.structured("test", MESSAGES, Verdict)
    await llm.close()
    assert (first.model, second.model) == ("gpt-oss:20b", "gpt-oss:20b")
    # The limited model was asked once: within its Retry-After the chain does not knock again.
    assert [r["model"] for r in fake.chats()] == ["gpt-oss:120b", "gpt-oss:20b", "gpt-oss:20b"]
    assert "rate limited (429)" in llm.status.detail


async def test_openai_request_carries_key_usage_and_reasoning_effort(fake: FakeModelServer) -> None:
    settings = LLMSettings(api="openai", host=f"{fake.url}/v1", api_key="sk-test-123", think="medium")
    llm = LLM(settings)
    answer = await llm.structured("assessment", MESSAGES, Verdict)
    await llm.close()
    request, headers = fake.chats()[0], fake.headers[0]
    assert headers["authorization"] == "Bearer sk-test-123"
    assert request["stream"] is True and request["stream_options"] == {"include_usage": True}
    assert request["reasoning_effort"] == "medium"
    assert request["response_format"]["json_schema"]["name"] == "Verdict"
    assert answer.usage is not None and answer.usage.prompt_tokens == 10 and answer.usage.completion_tokens


async def test_openai_without_a_key_sends_no_authorization(fake: FakeModelServer) -> None:
    llm = LLM(LLMSettings(api="openai", host=f"{fake.url}/v1", think=""))
    await llm.structured("test", MESSAGES, Verdict)
    await llm.close()
    assert "authorization" not in fake.headers[0]
    assert "reasoning_effort" not in fake.chats()[0]
