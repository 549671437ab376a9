"""The LLM path against a real model server: llama.cpp's llama-server with Gemma 3 270M (tests/llama.py), through
the OpenAI-compatible provider. Per call kind: prompt size in real tokens (and how much of it the server's prefix
cache served), the first token as the backend sees it, the server's own prompt and generation time (its
``timings``), and the backend's own time around the call (prompt building, the client, parsing, validation,
rules) = wall time minus the server's time. Prints a table.

    .venv/bin/python bench/llm_bench.py [--observations 4] [--pack DIR]

``--pack``: another pack folder (its prompts/), e.g. a `git worktree` of an older commit, to compare prompts.

The first call of an observation (assessment) reads the whole prompt; the second (moves) finds the shared prefix
in the server's cache. A 270M model on 2 CPU cores is slow and writes nonsense: the point is where time goes.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from backend.adapters.llm import LLM  # noqa: E402
from backend.adapters.llm_provider import ChatProvider, Chunk, Message, Usage  # noqa: E402
from backend.domain.copilot.build import build_engine  # noqa: E402
from backend.domain.copilot.conversation import Conversation  # noqa: E402
from backend.domain.copilot.copilot import Copilot  # noqa: E402
from backend.settings import LLMSettings, PackSettings, Settings  # noqa: E402
from bench.stats import percentile  # noqa: E402
from tests.llama import MODEL, llama_server  # noqa: E402

OBSERVATIONS = [
    "Klient przyszedł z żoną i dwójką dzieci, pyta o zasięg zimą i ładowanie w domu",
    "Has a diesel Volvo now and asks whether the heat pump really helps in winter",
    "Pyta o leasing na firmę i odliczenie VAT, jest właścicielem małej firmy",
    "Chce jazdę próbną w sobotę, żona woli SUV-a",
    "Asks about the discount on the demo car and delivery time",
    "Ma fotowoltaikę na dachu i pyta o wallbox w garażu",
]


@dataclass
class Call:
    kind: str
    wall_ms: float  # the backend's whole call: from asking to the parsed, validated answer
    first_token_ms: float
    usage: Usage | None


@dataclass
class TimedProvider:
    """The real provider, with the wall time to the first chunk and the server's usage of each call recorded."""

    inner: ChatProvider
    api: str = "OpenAI-compatible"
    calls: list[tuple[float, float, Usage | None]] = field(default_factory=list)  # (start, first, usage)

    async def models(self) -> frozenset[str]:
        return await self.inner.models()

    async def chat(
        self, model: str, messages: Sequence[Message], *, schema: Any, max_tokens: int, think: str
    ) -> AsyncIterator[Chunk]:
        start, first, usage = time.perf_counter(), 0.0, None
        try:
            async for chunk in self.inner.chat(model, messages, schema=schema, max_tokens=max_tokens, think=think):
                first = first or time.perf_counter()
                usage = chunk.usage or usage
                yield chunk
        finally:
            self.calls.append((start, first, usage))

    async def close(self) -> None:
        await self.inner.close()


async def measure(base_url: str, observations: int, pack: Path) -> list[Call]:
    with tempfile.TemporaryDirectory() as tmp:
        built = build_engine(Settings(data_dir=Path(tmp), pack=PackSettings(dir=pack)), in_memory=True)
        settings = LLMSettings(
            api="openai", host=base_url, models=MODEL, first_token_timeout=120, request_timeout=600, retry_after=0
        )
        llm = LLM(settings)
        assert llm.provider is not None
        timed = TimedProvider(llm.provider)
        llm = LLM(settings, provider=timed)
        copilot = Copilot(built.engine, llm, built.copilot.prompts, settings.memory_token_budget)
        original = llm.structured
        calls: list[Call] = []

        async def structured(kind: str, messages: Any, schema: Any, on_text: Any = None) -> Any:
            before = len(timed.calls)
            started = time.perf_counter()
            try:
                return await original(kind, messages, schema, on_text)
            finally:
                ended = time.perf_counter()
                for start, first, usage in timed.calls[before:]:  # a repair is a second call of the same kind
                    calls.append(Call(kind, (ended - started) * 1000, (first - start) * 1000 if first else 0, usage))
                    started = ended  # the wall time goes to the first row; a repair row counts its own

        llm.structured = structured  # type: ignore[method-assign]
        conv = Conversation()
        try:
            for number, text in enumerate((OBSERVATIONS * 2)[:observations], start=1):
                copilot.fast_path(conv, text, number)
                await copilot.think(conv, lambda _event: None)
            await copilot.strategy(conv)
        finally:
            await llm.close()
            built.close()
        return calls


def table(calls: list[Call]) -> None:
    by_kind: dict[str, list[Call]] = defaultdict(list)
    for call in calls:
        by_kind[call.kind].append(call)
    print(
        f"{'call':<11} {'n':>3} {'prompt tok':>10} {'cached':>7} {'answer tok':>10} {'first token ms':>15} "
        f"{'server prompt ms':>16} {'server gen ms':>13} {'backend own ms':>14}"
    )
    for kind, rows in by_kind.items():

        def med(values: list[float]) -> float:
            return percentile(values, 50) if values else float("nan")

        usage = [r.usage for r in rows if r.usage is not None]
        own = [
            r.wall_ms - (r.usage.prompt_ms or 0) - (r.usage.generation_ms or 0)
            for r in rows
            if r.usage is not None and r.wall_ms
        ]
        print(
            f"{kind:<11} {len(rows):>3} {med([u.prompt_tokens or 0 for u in usage]):>10.0f} "
            f"{med([u.cached_tokens or 0 for u in usage]):>7.0f} "
            f"{med([u.completion_tokens or 0 for u in usage]):>10.0f} "
            f"{med([r.first_token_ms for r in rows]):>15.0f} {med([u.prompt_ms or 0 for u in usage]):>16.0f} "
            f"{med([u.generation_ms or 0 for u in usage]):>13.0f} {med(own):>14.0f}"
        )
    print("(medians; 'cached': prompt tokens the server's prefix cache served; 'backend own' = wall - server time)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--observations", type=int, default=4)
    parser.add_argument("--pack", type=Path, default=ROOT)
    args = parser.parse_args()
    with llama_server() as server:
        calls = asyncio.run(measure(server.base_url, args.observations, args.pack))
    table(calls)


if __name__ == "__main__":
    main()
