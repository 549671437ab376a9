"""Scoring rules: editable TOML files that turn signals and the LLM's assessment into explained indicators.

Every indicator is ``base + the (rounded) points of every rule that holds``, clamped to 0..100, and comes with the list
of rules that moved it. Sums commute, so rule order never matters. Invalid files are rejected with file,
key and reason; :class:`RuleStore` then keeps the last good rules in force and reports the error.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal, Self

from pydantic import Field, StringConstraints, ValidationError, model_validator

from backend.domain.pack.pack import DomainPack, Localized, PackError, Strict

__all__ = ("INDICATORS", "Indicator", "RuleContext", "RuleError", "RuleSet", "RuleStore", "Scores")

Indicator = Literal["purchase_readiness", "churn_risk", "fun_drive_risk", "deal_potential", "archetype_confidence"]
INDICATORS: tuple[Indicator, ...] = (
    "purchase_readiness",
    "churn_risk",
    "fun_drive_risk",
    "deal_potential",
    "archetype_confidence",
)
MIN_CUE_EVIDENCE = 0.2  # below this a cue seen long ago no longer counts (0.9 ** 16)
Label = Literal["none", "low", "medium", "high"]
RuleId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=80)]

# What the LLM's qualitative assessment may be asked about (see prompts/assessment.j2 and the engine).
ASSESSMENT_FIELDS = (
    "purchase_intent",
    "buying_signals",
    "risk_signals",
    "price_sensitivity",
    "urgency",
    "engagement",
    "test_drive_only",
    "decision_authority",
    "budget_fit",
    "archetype_fit",
)


class RuleError(PackError):
    """A scoring-rule file is invalid (file, key and reason, like every pack file)."""


class When(Strict):
    """All given conditions must hold."""

    cue: str | None = Field(default=None, description="A cue (scoring_rules/cues.toml) seen in this session.")
    archetype: str | None = Field(default=None, description="This archetype has at least min_probability.")
    min_probability: float = Field(default=0.35, ge=0, le=1)
    knowledge: str | None = Field(default=None, description="This knowledge module is in play.")
    assessment: str | None = Field(default=None, description="An assessment field of the LLM ...")
    is_: list[Label] | None = Field(default=None, alias="is", description="... has one of these labels.")

    @model_validator(mode="after")
    def _complete(self) -> Self:
        if (self.assessment is None) != (self.is_ is None):
            raise ValueError("'assessment' and 'is' go together")
        if self.assessment is not None and self.assessment not in ASSESSMENT_FIELDS:
            raise ValueError(f"assessment {self.assessment!r} is not one of {', '.join(ASSESSMENT_FIELDS)}")
        return self


class Rule(Strict):
    id: RuleId
    indicator: Indicator
    points: float = Field(ge=-100, le=100)
    reason: Localized
    when: When = Field(default_factory=When)
    scale: Literal["leader_probability", "leader_margin"] | None = Field(
        default=None, description="Multiply points by the leading archetype's probability, or its lead."
    )


class RuleFile(Strict):
    base: dict[Indicator, float] = Field(default_factory=dict)
    rule: list[Rule] = Field(default_factory=list)


@dataclass(frozen=True, slots=True)
class RuleContext:
    cues: Mapping[str, float]  # cue -> evidence: 1 when just seen, decaying with later observations
    archetypes: Mapping[str, float]  # slug -> probability
    knowledge: frozenset[str]
    assessment: Mapping[str, str] | None = None  # None on the fast path


@dataclass(frozen=True, slots=True)
class Contribution:
    rule_id: str
    points: int
    reason: Localized


@dataclass(frozen=True, slots=True)
class Scores:
    values: dict[str, int]
    explanations: dict[str, list[Contribution]]
    base: dict[str, int] = field(default_factory=dict)  # what the points are added to (value = base + points)


def _holds(when: When, ctx: RuleContext) -> bool:
    if when.cue is not None and ctx.cues.get(when.cue, 0.0) < MIN_CUE_EVIDENCE:
        return False
    if when.archetype is not None and ctx.archetypes.get(when.archetype, 0.0) < when.min_probability:
        return False
    if when.knowledge is not None and when.knowledge not in ctx.knowledge:
        return False
    return when.assessment is None or (
        ctx.assessment is not None and ctx.assessment.get(when.assessment) in (when.is_ or [])
    )


def _strength(when: When, ctx: RuleContext) -> float:
    """A cue rule's full points while its cue is fresh (or repeated), fewer as later notes push it back."""
    return 1.0 if when.cue is None else min(1.0, ctx.cues.get(when.cue, 0.0))


def _scale(rule: Rule, ctx: RuleContext) -> float:
    if rule.scale is None:
        return 1.0
    ranked = [*sorted(ctx.archetypes.values(), reverse=True), 0.0, 0.0]
    return ranked[0] if rule.scale == "leader_probability" else ranked[0] - ranked[1]


@dataclass(frozen=True)
class RuleSet:
    base: dict[str, float]
    rules: tuple[Rule, ...]

    def evaluate(self, ctx: RuleContext) -> Scores:
        """Each indicator: its base + every holding rule's points, each rounded first so that the explanation
        the salesperson reads adds up exactly to the value shown (then kept within 0..100)."""
        base: dict[str, int] = {name: round(self.base.get(name, 0.0)) for name in INDICATORS}
        totals = dict(base)
        explanations: dict[str, list[Contribution]] = {name: [] for name in INDICATORS}
        for rule in self.rules:
            if _holds(rule.when, ctx):
                points = round(rule.points * _scale(rule, ctx) * _strength(rule.when, ctx))
                if points:
                    totals[rule.indicator] += points
                    explanations[rule.indicator].append(Contribution(rule.id, points, rule.reason))
        values: dict[str, int] = {name: max(0, min(100, total)) for name, total in totals.items()}
        for items in explanations.values():
            items.sort(key=lambda c: (-abs(c.points), c.rule_id))
        return Scores(values, explanations, base)

    @classmethod
    def load(cls, directory: Path, pack: DomainPack) -> RuleSet:
        base: dict[str, float] = {}
        rules: list[Rule] = []
        for path in sorted(directory.glob("*.toml")):
            if path.name == "cues.toml":
                continue
            parsed = _parse(path)
            _check_references(path, parsed, pack)
            for name, value in parsed.base.items():
                if name in base:
                    raise RuleError(path, [f"base.{name}: already set in another rule file"])
                base[name] = value
            rules.extend(parsed.rule)
        seen: set[str] = set()
        for rule in rules:
            if rule.id in seen:
                raise RuleError(directory, [f"rule id {rule.id!r} is used twice"])
            seen.add(rule.id)
        return cls(base, tuple(rules))


def _parse(path: Path) -> RuleFile:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise RuleError(path, [f"not valid TOML: {exc}"]) from None
    try:
        return RuleFile.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = list(err["loc"])
            if len(loc) >= 2 and loc[0] == "rule" and isinstance(loc[1], int):
                rules = data.get("rule")
                rule_id = rules[loc[1]].get("id", "?") if isinstance(rules, list) else "?"
                loc[1] = f"{loc[1]}(id={rule_id})"
            problems.append(f"{'.'.join(str(p) for p in loc)}: {err['msg']}")
        raise RuleError(path, problems) from None


def _check_references(path: Path, parsed: RuleFile, pack: DomainPack) -> None:
    problems = []
    for rule in parsed.rule:
        w = rule.when
        if w.cue is not None and w.cue not in pack.cues:
            problems.append(f"rule {rule.id}: unknown cue {w.cue!r}")
        if w.archetype is not None and w.archetype not in pack.archetypes:
            problems.append(f"rule {rule.id}: unknown archetype {w.archetype!r}")
        if w.knowledge is not None and w.knowledge not in pack.knowledge:
            problems.append(f"rule {rule.id}: unknown knowledge module {w.knowledge!r}")
    if problems:
        raise RuleError(path, problems)


class RuleStore:
    """The rules in force, reloaded when a file changes; a broken edit keeps the last good rules."""

    def __init__(self, directory: Path, pack: DomainPack) -> None:
        self.directory = directory
        self.pack = pack
        self.error: RuleError | None = None
        self._stamp = self._current_stamp()
        self._rules = RuleSet.load(directory, pack)  # the shipped rules must be valid: fail loudly at start

    def _current_stamp(self) -> tuple[tuple[str, int, int], ...]:
        stats = ((p.name, p.stat()) for p in sorted(self.directory.glob("*.toml")))
        return tuple((name, st.st_mtime_ns, st.st_size) for name, st in stats)

    def current(self) -> RuleSet:
        stamp = self._current_stamp()
        if stamp != self._stamp:
            self._stamp = stamp
            try:
                self._rules = RuleSet.load(self.directory, self.pack)
                self.error = None
            except RuleError as exc:
                self.error = exc
        return self._rules
