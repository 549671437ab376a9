"""`sufler replay`: run JSON Lines observations through the engine as one new session, print JSON lines."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from typing import Any, TextIO

from backend.domain.copilot import views
from backend.domain.copilot.engine import CopilotEngine, FastResult, SessionState, SuggestedMove


class ReplayError(ValueError):
    pass


def read_observations(lines: Iterable[str]) -> Iterator[str]:
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ReplayError(f"line {number}: not JSON ({exc.msg})") from None
        if not isinstance(item, dict) or not isinstance(item.get("observation"), str):
            raise ReplayError(f'line {number}: expected an object with an "observation" string')
        yield item["observation"]


def result_json(result: FastResult, moves: list[SuggestedMove], mode: str) -> dict[str, Any]:
    language = result.language
    return {
        "mode": mode,
        "archetypes": [{"slug": a.slug, "probability": round(a.probability, 4)} for a in result.archetypes],
        "knowledge": [r.slug for r in result.knowledge],
        "indicators": result.scores.values,
        "explanations": views.explanations(result.scores, language),
        "moves": [{"kind": m.kind, "text": m.text, "why": m.why, "source": m.source} for m in moves],
    }


def replay(engine: CopilotEngine, lines: Iterable[str], out: TextIO = sys.stdout) -> int:
    state = SessionState()
    count = 0
    for observation in read_observations(lines):
        result = engine.observe(state, observation)
        moves = engine.playbook_moves(result.archetypes, result.language)
        out.write(json.dumps(result_json(result, moves, "degraded"), ensure_ascii=False) + "\n")
        out.flush()
        count += 1
    return count
