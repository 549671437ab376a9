"""The fast path's evaluation set (bench/evaluation/): kept apart from the pack, and its figures hold."""

from __future__ import annotations

import pytest

from backend.domain.copilot.build import BuiltEngine
from backend.domain.engine.matching import normalize
from bench.fast_path_eval import LANGUAGES, Tally, load_scenarios, run, score


def _pack_sentences(built: BuiltEngine) -> set[str]:
    pack = built.engine.pack
    sentences = set()
    for archetype in pack.archetypes.values():
        sentences |= {*archetype.signals.examples.pl, *archetype.signals.examples.en}
    for module in pack.knowledge.values():
        sentences |= {*module.keywords.all(), *(f.text.pl for f in module.facts), *(f.text.en for f in module.facts)}
    return {normalize(s) for s in sentences}


@pytest.mark.parametrize("prefix", ["", "holdout_", "fresh_"])
def test_no_sentence_of_the_evaluation_is_in_the_pack(built: BuiltEngine, prefix: str) -> None:
    pack = _pack_sentences(built)
    notes = [normalize(note) for s in load_scenarios(prefix) for note in s.notes]
    assert len(notes) >= 20
    assert [n for n in notes if n in pack] == []


def test_the_tuning_set_has_at_least_100_scenarios_in_both_languages() -> None:
    scenarios = load_scenarios()
    assert len(scenarios) >= 100
    assert {s.language for s in scenarios} == set(LANGUAGES)


@pytest.mark.parametrize("prefix", ["", "holdout_"])
@pytest.mark.parametrize("language", LANGUAGES)
def test_figures_per_language(built: BuiltEngine, prefix: str, language: str) -> None:
    """The issue's bar, per language: top-1 >= 92 %, knowledge recall >= 95 % at precision >= 80 %, indicator
    checks >= 90 % (the held-out set is small, so its bar is one miss lower where one miss would cross it)."""
    tally = Tally()
    for scenario in load_scenarios(prefix):
        if scenario.language == language:
            score(scenario, run(built.engine, scenario), tally)
    slack = 1 if prefix else 0
    assert sum(tally.top1) >= 0.92 * len(tally.top1) - slack, tally.failures
    assert tally.shown_right >= 0.80 * tally.shown - slack, tally.failures
    assert tally.expected_found >= 0.95 * tally.expected - slack, tally.failures
    assert sum(tally.checks) >= 0.90 * len(tally.checks) - slack, tally.failures
