"""`sufler replay` through the LLM path (fake Ollama on the wire), and its degraded fallback."""

from __future__ import annotations

import io
import json

from backend.adapters.llm import LLM
from backend.domain.copilot.build import BuiltEngine
from backend.domain.copilot.copilot import Copilot
from backend.domain.copilot.replay import replay
from backend.settings import LLMSettings
from tests.fakes.model_server import FakeModelServer, Reply, running

LINES = [
    json.dumps({"observation": "Mother of two asks whether two child seats fit in the back"}),
    json.dumps({"observation": "She also asks about crash test results"}),
]


async def run(built: BuiltEngine, llm: LLM) -> list[dict[str, object]]:
    out = io.StringIO()
    await replay(Copilot(built.engine, llm, built.copilot.prompts, 1500), LINES, use_llm=True, out=out)
    await llm.close()
    return [json.loads(line) for line in out.getvalue().splitlines()]


async def test_replay_uses_the_llm_when_it_answers(built: BuiltEngine) -> None:
    async with running(FakeModelServer()) as fake:
        results = await run(built, LLM(LLMSettings(host=fake.url)))
    assert [r["mode"] for r in results] == ["llm", "llm"]
    assert results[1]["archetypes"][0]["slug"] == "family-guardian"  # type: ignore[index]
    moves = results[1]["moves"]
    assert [m["kind"] for m in moves] == ["question", "argument", "objection_response", "action"]  # type: ignore[union-attr]
    assert "crash test results" in moves[0]["text"]  # type: ignore[index]
    assert set(results[0]["indicators"]) == {  # type: ignore[arg-type]
        "purchase_readiness",
        "churn_risk",
        "fun_drive_risk",
        "deal_potential",
        "archetype_confidence",
    }


async def test_replay_falls_back_to_degraded_per_observation(built: BuiltEngine) -> None:
    async with running(FakeModelServer()) as fake:
        fake.script("gpt-oss:120b", Reply(status=500), Reply(status=500))
        fake.script("gpt-oss:20b", Reply(status=500), Reply(status=500))
        results = await run(built, LLM(LLMSettings(host=fake.url, retry_after=0)))
    assert [r["mode"] for r in results] == ["degraded", "llm"]
