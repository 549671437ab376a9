"""Whatever the rules and the situation, indicators stay in 0..100 and rule order does not matter."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from backend.domain.engine.rules import INDICATORS, RuleContext, RuleSet, When
from backend.domain.engine.rules import Rule as RuleModel
from backend.domain.pack.pack import Localized

REASON = Localized(pl="powód", en="reason")
CUES = ["a", "b", "c"]

rules_strategy = st.lists(
    st.builds(
        lambda i, ind, pts, cue, scale: RuleModel(
            id=f"r{i}", indicator=ind, points=pts, reason=REASON, when=When(cue=cue), scale=scale
        ),
        st.integers(0, 10_000),
        st.sampled_from(INDICATORS),
        st.floats(-100, 100, allow_nan=False),
        st.none() | st.sampled_from(CUES),
        st.none() | st.sampled_from(["leader_probability", "leader_margin"]),
    ),
    max_size=30,
    unique_by=lambda r: r.id,
)
context_strategy = st.builds(
    lambda cues, probs: RuleContext(
        cues=cues, archetypes={f"a{i}": p for i, p in enumerate(probs)}, knowledge=frozenset()
    ),
    st.dictionaries(st.sampled_from(CUES), st.floats(0, 5)),  # evidence: fresh 1, repeated more, decayed less
    st.lists(st.floats(0, 1), max_size=4),
)
base_strategy = st.dictionaries(st.sampled_from(INDICATORS), st.floats(-200, 200, allow_nan=False))


@given(rules_strategy, context_strategy, base_strategy, st.randoms())
def test_bounded_and_order_independent(rules, ctx, base, rnd) -> None:  # type: ignore[no-untyped-def]
    forward = RuleSet(base, tuple(rules)).evaluate(ctx)
    shuffled = list(rules)
    rnd.shuffle(shuffled)
    again = RuleSet(base, tuple(shuffled)).evaluate(ctx)
    assert all(0 <= v <= 100 for v in forward.values.values())
    assert set(forward.values) == set(INDICATORS)
    assert forward.values == again.values
    assert forward.explanations == again.explanations


@given(rules_strategy, context_strategy, base_strategy)
def test_the_explanation_adds_up_to_the_value(rules, ctx, base) -> None:  # type: ignore[no-untyped-def]
    scores = RuleSet(base, tuple(rules)).evaluate(ctx)
    for name in INDICATORS:
        total = scores.base[name] + sum(c.points for c in scores.explanations[name])
        assert scores.values[name] == max(0, min(100, total))
