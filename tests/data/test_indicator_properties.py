"""Indicators on the shipped pack, whatever the notes say: always 0..100, and the clauses of one note count the
same in any order (what the cues give; the archetype part follows the embedding of the whole note, which word
order moves a little)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backend.domain.copilot.build import BuiltEngine
from backend.domain.engine.engine import Beliefs
from backend.domain.engine.rules import Scores

CLAUSES = [
    "chce podpisać umowę dziś",
    "pyta o leasing",
    "nie interesuje go jazda próbna",
    "bierze jednak BMW",
    "wants to borrow it for the weekend",
    "asks about the deposit",
    "nobody asks about financing",
    "porównuje z ofertą Skody",
    "nie teraz",
    "żona decyduje",
    "budżet do 250 tys.",
]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(CLAUSES), min_size=1, max_size=5, unique=True), st.randoms())
def test_clause_order_does_not_matter_and_values_stay_in_range(
    built: BuiltEngine, clauses: list[str], rnd: object
) -> None:
    shuffled = list(clauses)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    first = built.engine.fast_result(Beliefs(), "; ".join(clauses))
    again = built.engine.fast_result(Beliefs(), "; ".join(shuffled))
    cue_rules = {rule.id for rule in built.engine.rules.current().rules if rule.when.cue is not None}

    def from_cues(scores: Scores) -> dict[str, list[tuple[str, int]]]:
        return {
            n: sorted((c.rule_id, c.points) for c in cs if c.rule_id in cue_rules)
            for n, cs in scores.explanations.items()
        }

    assert first.cues == again.cues
    assert from_cues(first.scores) == from_cues(again.scores)
    assert all(0 <= v <= 100 for v in first.scores.values.values())


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(CLAUSES), min_size=1, max_size=8))
def test_a_conversation_keeps_every_indicator_in_range(built: BuiltEngine, notes: list[str]) -> None:
    state = Beliefs()
    for note in notes:
        scores = built.engine.fast_result(state, note).scores
        assert all(0 <= v <= 100 for v in scores.values.values())
        for name, value in scores.values.items():
            total = scores.base[name] + sum(c.points for c in scores.explanations[name])
            assert value == max(0, min(100, total))
