"""`sufler replay`: run JSON Lines observations through the co-pilot as one new session, print JSON lines.

With an LLM configured (and without ``--no-llm``), every observation goes through the same LLM path as the
cockpit (assessment → refined indicators → four moves), with the same degraded fallback; each line says
which mode produced it.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from typing import Any, TextIO

from backend.domain.copilot import views
from backend.domain.copilot.conversation import Conversation
from backend.domain.copilot.copilot import Copilot
from backend.domain.engine.engine import FastResult
from backend.domain.protocol import cockpit as p
from backend.errors import InvalidInput


class ReplayError(InvalidInput, ValueError):
    """A line of the replay input is not an observation."""


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


def result_json(fast: FastResult, indicators: dict[str, p.Indicator], moves: list[p.Move], mode: str) -> dict[str, Any]:
    return {
        "mode": mode,
        "archetypes": [{"slug": a.slug, "probability": round(a.probability, 4)} for a in fast.archetypes],
        "knowledge": [r.slug for r in fast.knowledge],
        "indicators": {name: item.value for name, item in indicators.items()},
        "explanations": {name: [b.model_dump() for b in item.because] for name, item in indicators.items()},
        "moves": [m.model_dump() for m in moves],
    }


async def replay(copilot: Copilot, lines: Iterable[str], *, use_llm: bool, out: TextIO = sys.stdout) -> int:
    conv = Conversation()
    count = 0
    for number, observation in enumerate(read_observations(lines), start=1):
        fast = copilot.fast_path(conv, observation, number)
        indicators = views.indicators(fast.scores, fast.language)
        if use_llm:
            stored = await copilot.think(conv, lambda _event: None)
            if stored.assessment is not None:
                indicators = stored.assessment.indicators
            assert stored.moves is not None
            moves, mode = stored.moves.moves, stored.moves.mode
        else:
            suggested = copilot.engine.playbook_moves(fast.archetypes, fast.language)
            moves, mode = [views.move(m, f"{number}:0:{m.kind}") for m in suggested], "degraded"
        out.write(json.dumps(result_json(fast, indicators, moves, mode), ensure_ascii=False) + "\n")
        out.flush()
        count += 1
    return count
