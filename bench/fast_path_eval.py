"""The fast path (no LLM) on the evaluation set in bench/evaluation/: how well it reads notes as salespeople
write them. Prints, per language: top-1 (the leading archetype), knowledge precision and recall (over the three
modules shown), and indicator checks; ``--failures`` lists every miss.

    .venv/bin/python bench/fast_path_eval.py [--failures] [--holdout | --fresh] [--similarity off|trusted]
"""

from __future__ import annotations

import argparse
import operator
import sys
import tempfile
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from backend.domain.copilot.build import build_engine  # noqa: E402
from backend.domain.copilot.prompts import MAX_KNOWLEDGE  # noqa: E402
from backend.domain.engine.engine import Beliefs, CopilotEngine, FastResult  # noqa: E402
from backend.settings import PackSettings, Settings  # noqa: E402

EVALUATION = ROOT / "bench" / "evaluation"
LANGUAGES = ("pl", "en")
_COMPARE: dict[str, Callable[[int, int], bool]] = {">=": operator.ge, "<=": operator.le}


@dataclass(frozen=True)
class Scenario:
    language: str
    notes: list[str]
    leader: str | None
    knowledge: list[str] | None
    ok: list[str]
    checks: list[str]


def load_scenarios(prefix: str = "", directory: Path = EVALUATION) -> list[Scenario]:
    """``prefix`` "": the set the pack was tuned on; "holdout_": held out, then looked at; "fresh_": never."""
    scenarios = []
    for language in LANGUAGES:
        data = tomllib.loads((directory / f"{prefix}{language}.toml").read_text(encoding="utf-8"))
        for s in data["scenario"]:
            scenarios.append(
                Scenario(
                    language, s["notes"], s.get("leader"), s.get("knowledge"), s.get("ok", []), s.get("checks", [])
                )
            )
    return scenarios


def check_holds(check: str, values: dict[str, int]) -> bool:
    name, op, bound = check.split()
    return _COMPARE[op](values[name], int(bound))


@dataclass
class Tally:
    top1: list[bool] = field(default_factory=list)
    shown_right: int = 0
    shown: int = 0
    expected_found: int = 0
    expected: int = 0
    checks: list[bool] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def run(engine: CopilotEngine, scenario: Scenario) -> FastResult:
    state = Beliefs()
    result = None
    for note in scenario.notes:
        result = engine.fast_result(state, note)
    assert result is not None
    return result


def score(scenario: Scenario, result: FastResult, tally: Tally) -> None:
    said = " / ".join(scenario.notes)
    if scenario.leader is not None:
        leader = result.archetypes[0].slug
        tally.top1.append(leader == scenario.leader)
        if leader != scenario.leader:
            tally.failures.append(f"leader {leader} (want {scenario.leader}): {said}")
    if scenario.knowledge is not None:
        shown = [k.slug for k in result.knowledge[:MAX_KNOWLEDGE]]
        allowed = {*scenario.knowledge, *scenario.ok}
        tally.shown += len(shown)
        tally.shown_right += sum(slug in allowed for slug in shown)
        tally.expected += len(scenario.knowledge)
        tally.expected_found += sum(slug in shown for slug in scenario.knowledge)
        wrong = [s for s in shown if s not in allowed]
        missing = [s for s in scenario.knowledge if s not in shown]
        if wrong or missing:
            tally.failures.append(f"knowledge shown {shown}, missing {missing}, wrong {wrong}: {said}")
    for check in scenario.checks:
        holds = check_holds(check, result.scores.values)
        tally.checks.append(holds)
        if not holds:
            name = check.split()[0]
            tally.failures.append(f"{check} but {result.scores.values[name]}: {said}")


def share(hits: int, total: int) -> str:
    return f"{100 * hits / total:5.1f} % ({hits}/{total})" if total else "-"


def main(failures: bool, prefix: str, similarity: str | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        built = build_engine(Settings(data_dir=Path(tmp), pack=PackSettings(dir=ROOT)), in_memory=True)
        engine = built.engine
        if similarity == "off":  # what the embedding model adds: the same engine without similarity evidence
            engine.untrusted_similarity = 0.0
            engine._model_languages = frozenset()
        elif similarity == "trusted":  # as if the model read Polish as well as English
            engine._model_languages = frozenset(LANGUAGES)
        tallies = {language: Tally() for language in LANGUAGES}
        scenarios = load_scenarios(prefix)
        for scenario in scenarios:
            score(scenario, run(engine, scenario), tallies[scenario.language])
        built.close()
    columns = ("top-1", "knowledge precision", "knowledge recall", "indicator checks")
    print(f"{'language':<9} {'scenarios':>9} " + " ".join(f"{c:>21}" for c in columns))
    for language, t in tallies.items():
        n = sum(s.language == language for s in scenarios)
        print(
            f"{language:<9} {n:>9} {share(sum(t.top1), len(t.top1)):>21} {share(t.shown_right, t.shown):>21} "
            f"{share(t.expected_found, t.expected):>21} {share(sum(t.checks), len(t.checks)):>21}"
        )
    if failures:
        for language, t in tallies.items():
            for line in t.failures:
                print(f"[{language}] {line}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--failures", action="store_true", help="list every miss")
    parser.add_argument("--holdout", action="store_true", help="the held-out set")
    parser.add_argument("--fresh", action="store_true", help="the freshest set, run once as written")
    parser.add_argument(
        "--similarity",
        choices=["off", "trusted"],
        help="off: no similarity evidence at all; trusted: trust the model on Polish too (default: as shipped)",
    )
    args = parser.parse_args()
    main(args.failures, "holdout_" if args.holdout else "fresh_" if args.fresh else "", args.similarity)
