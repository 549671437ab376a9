"""OllamaLLM through the real ollama client against the fake Ollama server (real HTTP, NDJSON streaming)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from pydantic import BaseModel, Field

from backend.adapters.llm import LLMInvalidOutput, LLMUnavailable, OllamaLLM
from backend.runtime import bind_socket
from backend.settings import LLMSettings
from tests.fakes.ollama import FakeOllama, Reply, running


class Verdict(BaseModel):
    label: str = Field(min_length=1)
    score: int = Field(ge=0, le=10)


@pytest.fixture
async def fake() -> AsyncIterator[FakeOllama]:
    async with running(FakeOllama()) as server:
        yield server


def make_llm(url: str, **overrides: object) -> OllamaLLM:
    return OllamaLLM(LLMSettings(host=url, first_token_timeout=0.5, request_timeout=5, retry_after=0.2, **overrides))


MESSAGES = [{"role": "system", "content": "You judge."}, {"role": "user", "content": "Client asks about leasing"}]


async def test_structured_answer_streams_and_validates(fake: FakeOllama) -> None:
    llm = make_llm(fake.url)
    seen: list[str] = []
    answer = await llm.structured(MESSAGES, Verdict, on_text=seen.append)
    await llm.close()
    assert answer.model == "gpt-oss:120b"
    assert "Client asks about leasing" in answer.value.label
    assert len(seen) > 2 and seen[-1] == answer.raw  # the JSON arrived in pieces
    request = fake.chats()[0]
    assert request["stream"] is True
    assert request["format"] == Verdict.model_json_schema()
    assert request["messages"][-1]["content"] == "Client asks about leasing"
    assert llm.status.state == "up"


async def test_rate_limit_falls_back_to_the_next_model(fake: FakeOllama) -> None:
    fake.script("gpt-oss:120b", Reply(status=429, error="too many requests"))
    llm = make_llm(fake.url)
    answer = await llm.structured(MESSAGES, Verdict)
    await llm.close()
    assert answer.model == "gpt-oss:20b"
    assert llm.status.state == "degraded" and "429" in llm.status.detail


async def test_slow_first_token_falls_back(fake: FakeOllama) -> None:
    fake.script("gpt-oss:120b", Reply(first_token_delay=2.0))
    llm = make_llm(fake.url)
    answer = await llm.structured(MESSAGES, Verdict)
    await llm.close()
    assert answer.model == "gpt-oss:20b"
    assert "first token" in llm.status.detail


async def test_error_mid_stream_falls_back(fake: FakeOllama) -> None:
    fake.script("gpt-oss:120b", Reply(fail_after_chunks=1, error="model runner crashed"))
    llm = make_llm(fake.url)
    answer = await llm.structured(MESSAGES, Verdict)
    await llm.close()
    assert answer.model == "gpt-oss:20b"


async def test_unknown_model_falls_back(fake: FakeOllama) -> None:
    llm = make_llm(fake.url, models="missing:1b,gpt-oss:20b")
    answer = await llm.structured(MESSAGES, Verdict)
    await llm.close()
    assert answer.model == "gpt-oss:20b"


async def test_invalid_json_is_repaired_once(fake: FakeOllama) -> None:
    good = json.dumps({"label": "fine", "score": 3})
    fake.script("gpt-oss:120b", Reply(content='{"label": "", "score": 99}'), Reply(content=good))
    llm = make_llm(fake.url)
    answer = await llm.structured(MESSAGES, Verdict)
    await llm.close()
    assert answer.value == Verdict(label="fine", score=3)
    repair = fake.chats()[-1]["messages"]
    assert repair[-2] == {"role": "assistant", "content": '{"label": "", "score": 99}'}
    assert "not valid" in repair[-1]["content"]


async def test_invalid_twice_is_a_typed_failure(fake: FakeOllama) -> None:
    fake.script("gpt-oss:120b", Reply(content="not json"), Reply(content="[1, 2]"))
    llm = make_llm(fake.url)
    with pytest.raises(LLMInvalidOutput):
        await llm.structured(MESSAGES, Verdict)
    await llm.close()


async def test_nothing_listening_is_unavailable_and_stays_down_briefly() -> None:
    sock = bind_socket("127.0.0.1", 0)  # a port nobody answers HTTP on once closed
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    sock.close()
    llm = make_llm(url)
    with pytest.raises(LLMUnavailable, match=r"gpt-oss:120b.*gpt-oss:20b"):
        await llm.structured(MESSAGES, Verdict)
    assert llm.status.state == "degraded" and llm.status.model is None
    with pytest.raises(LLMUnavailable):  # within retry_after: no new attempt, no waiting
        await llm.structured(MESSAGES, Verdict)
    await llm.close()


async def test_no_host_means_off() -> None:
    llm = OllamaLLM(LLMSettings(host=""))
    assert llm.status.state == "off"
    with pytest.raises(LLMUnavailable):
        await llm.structured(MESSAGES, Verdict)


async def test_stream_text_yields_deltas(fake: FakeOllama) -> None:
    fake.default = Reply(chunk_size=5)
    llm = make_llm(fake.url)
    deltas = [delta async for _, delta in llm.stream_text(MESSAGES)]
    await llm.close()
    assert len(deltas) > 3
    assert "".join(deltas) == "Advice about: Client asks about leasing"
    assert "format" not in fake.chats()[0] or fake.chats()[0]["format"] is None


async def test_probe_reports_the_model_in_use(fake: FakeOllama) -> None:
    llm = make_llm(fake.url)
    assert (await llm.probe()).state == "up"
    fake.models = {"gpt-oss:20b"}
    status = await llm.probe()
    await llm.close()
    assert (status.state, status.model, status.detail) == ("degraded", "gpt-oss:20b", "not pulled: gpt-oss:120b")


async def test_probe_of_a_dead_server_is_degraded() -> None:
    sock = bind_socket("127.0.0.1", 0)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    sock.close()
    llm = make_llm(url)
    status = await llm.probe()
    await llm.close()
    assert status.state == "degraded" and "not reachable" in status.detail
