"""The LLM path against a real model server: llama.cpp's llama-server with Gemma 3 270M (both from PyPI, see
tests/llama.py), through the OpenAI-compatible provider. A 270M model writes nonsense, so these tests assert
structure and behaviour — modes, fallbacks, schemas, cancellation — never the quality of what it says."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import httpx
import pytest

from backend.adapters.llm import LLM, LLMUnavailable
from backend.domain.copilot.build import BuiltEngine
from backend.domain.copilot.conversation import Conversation, Turn
from backend.domain.copilot.copilot import Copilot
from backend.domain.copilot.llm_outputs import NextMoves
from backend.settings import LLMSettings
from tests.integration.test_cli import env_for, run
from tests.llama import MODEL, LlamaServer, llama_server

pytestmark = pytest.mark.real_model

OBSERVATIONS = [
    "Klient przyszedł z żoną i dwójką dzieci, pyta o zasięg zimą i ładowanie w domu",
    "Has a diesel Volvo now and asks whether the heat pump really helps in winter",
]


def real_llm(server: LlamaServer, **overrides: object) -> LLM:
    """The product's chain at a real server; timeouts for 2 CPU cores (a first token can take seconds)."""
    values: dict[str, object] = {
        "api": "openai",
        "host": server.base_url,
        "models": MODEL,
        "first_token_timeout": 60.0,
        "request_timeout": 240.0,
        "retry_after": 0.0,
    }
    return LLM(LLMSettings(**{**values, **overrides}))  # type: ignore[arg-type]


def copilot_with(built: BuiltEngine, llm: LLM) -> Copilot:
    return Copilot(built.engine, llm, built.copilot.prompts, memory_token_budget=200)


def conversation_about(copilot: Copilot, *observations: str) -> Conversation:
    conv = Conversation()
    for number, text in enumerate(observations, start=1):
        copilot.fast_path(conv, text, number)
    return conv


async def test_replay_takes_the_llm_path_for_every_observation(llama: LlamaServer, tmp_path: Path) -> None:
    source = tmp_path / "conversation.jsonl"
    source.write_text("".join(json.dumps({"observation": o}) + "\n" for o in OBSERVATIONS), encoding="utf-8")
    env = env_for(
        SUFLER_LLM_API="openai",
        SUFLER_LLM_HOST=llama.base_url,
        SUFLER_LLM_MODELS=MODEL,
        SUFLER_LLM_FIRST_TOKEN_TIMEOUT="60",
        SUFLER_LLM_REQUEST_TIMEOUT="240",
        SUFLER_DATA_DIR=str(tmp_path / "data"),
    )
    code, out, err = await run(["replay", str(source)], env, wait=600)
    assert code == 0, err
    lines = [json.loads(line) for line in out.splitlines()]  # stdout is JSON lines only: logs go to stderr
    assert [line["mode"] for line in lines] == ["llm", "llm"], err[-2000:]
    for line in lines:
        assert [m["kind"] for m in line["moves"]] == ["question", "argument", "objection_response", "action"]
        assert set(line["indicators"]) == {
            "purchase_readiness", "churn_risk", "fun_drive_risk", "deal_potential", "archetype_confidence"
        }  # fmt: skip
    assert '"llm_status"' in err  # the logs are there, on stderr


async def test_memory_is_summarised_by_the_real_model(llama: LlamaServer, built: BuiltEngine) -> None:
    llm = real_llm(llama)
    copilot = copilot_with(built, llm)
    conv = conversation_about(copilot, *OBSERVATIONS, "Pyta o leasing na firmę", "Wants a test drive on Saturday")
    conv.turns.extend(Turn("observation", "Długa rozmowa o fotelikach i bagażniku " * 12) for _ in range(2))
    try:
        memory = await copilot.remember(conv)
    finally:
        await llm.close()
    assert memory is not None and memory.summary.strip() and memory.folded == len(conv.turns) - 4
    assert all(isinstance(fact, str) and fact for fact in memory.key_facts)


async def test_a_model_the_server_does_not_serve_is_skipped(llama: LlamaServer, built: BuiltEngine) -> None:
    # llama-server answers any model name with its one model; the chain goes by /v1/models instead.
    llm = real_llm(llama, models=f"not-there:70b,{MODEL}")
    status = await llm.probe()
    assert (status.state, status.model, status.detail) == ("degraded", MODEL, "not served: not-there:70b")
    try:
        answer = await llm.structured("moves", [{"role": "user", "content": "Suggest four moves."}], NextMoves)
    finally:
        await llm.close()
    assert answer.model == MODEL
    assert answer.usage is not None and answer.usage.prompt_tokens and answer.usage.completion_tokens


async def test_a_prompt_over_the_context_size_is_a_typed_failure_then_degraded(built: BuiltEngine) -> None:
    with llama_server(context=256) as small:
        llm = real_llm(small)
        copilot = copilot_with(built, llm)
        conv = conversation_about(copilot, OBSERVATIONS[0])
        try:
            moves = await copilot.moves(conv, lambda _event: None)
        finally:
            await llm.close()
    assert moves.mode == "degraded" and len(moves.moves) == 4  # the playbook's moves
    assert moves.reason is not None and "HTTP 400" in moves.reason and "context" in moves.reason
    assert llm.status.state == "degraded"


async def test_a_server_killed_mid_answer_falls_back_then_degrades(built: BuiltEngine) -> None:
    with llama_server() as doomed:
        llm = real_llm(doomed, models=f"{MODEL},{MODEL}-backup")
        await llm.probe()
        llm._served = None  # the backup is not listed: let the chain try it, as it would a second server's model
        copilot = copilot_with(built, llm)
        conv = conversation_about(copilot, OBSERVATIONS[0])

        def kill_on_first_text(text: str) -> None:
            if text:
                doomed.kill()

        try:
            with pytest.raises(LLMUnavailable) as failed:
                await llm.structured(
                    "moves", [{"role": "user", "content": "Four moves."}], NextMoves, kill_on_first_text
                )
            moves = await copilot.moves(conv, lambda _event: None)
        finally:
            await llm.close()
    assert f"{MODEL}-backup" in str(failed.value)  # the next model in the chain was tried, then no model was left
    assert moves.mode == "degraded" and len(moves.moves) == 4
    assert llm.status.state == "degraded" and llm.status.model is None


async def test_closing_a_superseded_stream_stops_the_server_work(llama: LlamaServer) -> None:
    llm = real_llm(llama)
    started = asyncio.Event()

    async def long_answer() -> None:
        messages = [{"role": "user", "content": "Write a very long story about an electric car."}]
        async for _model, _delta in llm.stream_text("strategy", messages):
            started.set()

    task = asyncio.create_task(long_answer())
    await asyncio.wait_for(started.wait(), 60)
    task.cancel()  # what a newer observation does to the LLM work of the one before
    with pytest.raises(asyncio.CancelledError):
        await task
    await llm.close()
    deadline = time.monotonic() + 5
    async with httpx.AsyncClient(base_url=llama.base_url.removesuffix("/v1")) as http:
        while True:
            slots = (await http.get("/slots")).json()
            if not any(slot["is_processing"] for slot in slots):
                break
            assert time.monotonic() < deadline, "the server kept generating for a stream nobody reads"
            await asyncio.sleep(0.1)
