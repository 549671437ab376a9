"""Fast path of the co-pilot engine, in process (no socket yet): one observation → archetypes, knowledge,
indicators; plus the degraded-mode moves. Prints a table.

    .venv/bin/python bench/fast_path_bench.py [--rounds 20]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from backend.domain.copilot.build import build_engine  # noqa: E402
from backend.domain.engine.engine import Beliefs  # noqa: E402
from backend.settings import PackSettings, Settings  # noqa: E402
from bench.stats import percentile  # noqa: E402
from tests.data.test_replay_scenarios import SCENARIOS  # noqa: E402


def main(rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        built = build_engine(Settings(data_dir=Path(tmp), pack=PackSettings(dir=ROOT)), in_memory=True)
        build_ms = (time.perf_counter() - started) * 1000
        engine = built.engine
        observations = [text for texts in SCENARIOS.values() for text in texts]
        observe: list[float] = []
        moves: list[float] = []
        for _ in range(rounds):
            state = Beliefs()  # sessions of 20 observations each: evidence and cues accumulate
            for text in observations:
                t0 = time.perf_counter()
                result = engine.fast_result(state, text)
                t1 = time.perf_counter()
                engine.playbook_moves(result.archetypes, result.language)
                t2 = time.perf_counter()
                observe.append((t1 - t0) * 1000)
                moves.append((t2 - t1) * 1000)
        built.close()
    print(f"engine start-up (pack, model, index {len(engine.pack.knowledge)} modules): {build_ms:.0f} ms")
    print(f"{'step':<28} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    for name, values in (("observe (fast path)", observe), ("playbook moves (degraded)", moves)):
        print(
            f"{name:<28} {len(values):>6} {statistics.median(values):>8.2f} "
            f"{percentile(values, 95):>8.2f} {percentile(values, 99):>8.2f}"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=20)
    main(parser.parse_args().rounds)
