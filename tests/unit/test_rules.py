"""Scoring rules: loading with precise errors, explained evaluation, hot reload keeping the last good rules."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from backend.domain.engine.rules import RuleContext, RuleError, RuleSet, RuleStore
from backend.domain.pack.pack import Cue, DomainPack, KeywordSet, Localized

PACK = DomainPack(
    archetypes={},
    knowledge={},
    cues={"delay": Cue(label=Localized(pl="Zwleka", en="Delays"), keywords=KeywordSet(pl=["później"], en=["later"]))},
)

GOOD = """
[base]
purchase_readiness = 20

[[rule]]
id = "postpones"
indicator = "purchase_readiness"
points = -15
reason = { pl = "Odkłada", en = "Postpones" }
when = { cue = "delay" }

[[rule]]
id = "llm-high"
indicator = "purchase_readiness"
points = 30
reason = { pl = "AI: wysoka", en = "AI: high" }
when = { assessment = "purchase_intent", is = ["high"] }
"""


def write(directory: Path, text: str, name: str = "rules.toml") -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def context(**kw: object) -> RuleContext:
    defaults: dict[str, object] = {"cues": {}, "archetypes": {}, "knowledge": frozenset(), "assessment": None}
    return RuleContext(**{**defaults, **kw})  # type: ignore[arg-type]


def test_indicator_is_base_plus_the_rules_that_hold_with_explanations(tmp_path: Path) -> None:
    rules = RuleSet.load(write(tmp_path, GOOD).parent, PACK)
    scores = rules.evaluate(context(cues={"delay": 1}, assessment={"purchase_intent": "high"}))
    assert scores.values["purchase_readiness"] == 20 - 15 + 30
    assert [(c.rule_id, c.points) for c in scores.explanations["purchase_readiness"]] == [
        ("llm-high", 30),
        ("postpones", -15),
    ]
    assert scores.values["churn_risk"] == 0 and scores.explanations["churn_risk"] == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[[rule]\nid = ", "rules.toml: not valid TOML"),
        ("[[rule]]\nid = 'x'\n", "rule.0(id=x).indicator: Field required"),
        (
            GOOD.replace('indicator = "purchase_readiness"\npoints = -15', 'indicator = "happiness"\npoints = -15'),
            "rule.0(id=postpones).indicator",
        ),
        (GOOD.replace("points = -15", "points = -150"), "rule.0(id=postpones).points"),
        (
            GOOD.replace('when = { cue = "delay" }', 'when = { cue = "delay", colour = "red" }'),
            "rule.0(id=postpones).when.colour",
        ),
        (GOOD.replace('cue = "delay"', 'cue = "nap"'), "rule postpones: unknown cue 'nap'"),
        (GOOD.replace('assessment = "purchase_intent"', 'assessment = "mood"'), "assessment 'mood' is not one of"),
        (GOOD.replace('id = "llm-high"', 'id = "postpones"'), "rule id 'postpones' is used twice"),
    ],
)
def test_invalid_files_are_rejected_with_file_key_and_reason(tmp_path: Path, text: str, expected: str) -> None:
    write(tmp_path, text)
    with pytest.raises(RuleError) as caught:
        RuleSet.load(tmp_path, PACK)
    assert expected in str(caught.value)


def test_store_reloads_changes_and_keeps_the_last_good_rules(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    store = RuleStore(tmp_path, PACK)
    assert store.current().base["purchase_readiness"] == 20

    def edit(text: str) -> None:
        path.write_text(text, encoding="utf-8")
        later = time.time() + 1
        os.utime(path, (later, later))  # a new mtime even on coarse file-system clocks

    edit(GOOD.replace("purchase_readiness = 20", "purchase_readiness = 35"))
    assert store.current().base["purchase_readiness"] == 35 and store.error is None

    edit(GOOD.replace("points = -15", "points = 'lots'"))
    assert store.current().base["purchase_readiness"] == 35  # still the last good rules
    assert store.error is not None and "points" in str(store.error)

    edit(GOOD)
    assert store.current().base["purchase_readiness"] == 20 and store.error is None
