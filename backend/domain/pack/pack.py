"""The domain pack: archetypes, knowledge modules and cue words, as plain files validated at load.

Errors name the file, the key and what is wrong (:class:`PackError`), so that a sales lead editing a file
sees exactly what to fix. Run ``python -m backend.domain.pack.pack`` to validate the shipped pack.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Annotated, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator

from backend.errors import InvalidInput

__all__ = (
    "Archetype",
    "DomainPack",
    "KnowledgeModule",
    "Localized",
    "LocalizedList",
    "Move",
    "PackError",
    "load_pack",
)

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=64)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
# A whole word or phrase ("leasing", "na firmę"), or a stem ending in * that matches any word starting with it
# ("dziec*" matches dziecko, dzieci, dzieckiem). Matching ignores case and Polish diacritics.
Keyword = Annotated[
    str, StringConstraints(strip_whitespace=True, to_lower=True, pattern=r"^[^*]{2,58}\*?$", max_length=60)
]
MoveKind = Literal["question", "argument", "objection_response", "action"]
MOVE_KINDS: tuple[MoveKind, ...] = ("question", "argument", "objection_response", "action")


class PackError(InvalidInput, ValueError):
    """A pack file is invalid. ``str()`` is ready to show: file, key and reason, one per line."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        super().__init__(f"{path}: " + "; ".join(problems))
        self.args = (self.message,)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Localized(Strict):
    pl: Text
    en: Text

    def get(self, language: str) -> str:
        return self.pl if language == "pl" else self.en


class LocalizedList(Strict):
    pl: list[Text] = Field(min_length=1)
    en: list[Text] = Field(min_length=1)

    def get(self, language: str) -> list[str]:
        return self.pl if language == "pl" else self.en


class KeywordSet(Strict):
    """Words or short phrases, lowercase; Polish lists carry the inflected forms a salesperson types."""

    pl: list[Keyword] = Field(min_length=1)
    en: list[Keyword] = Field(min_length=1)

    def all(self) -> list[str]:
        return [*self.pl, *self.en]


class Signals(Strict):
    keywords: KeywordSet
    examples: LocalizedList = Field(description="Typical observations, for embedding similarity.")


class Objection(Strict):
    objection: Localized
    response: Localized


class Move(Strict):
    kind: MoveKind
    text: Localized
    why: Localized


class Archetype(Strict):
    slug: Slug
    name: Localized
    description: Localized
    motivations: LocalizedList
    way_of_speaking: Localized
    key_phrases: LocalizedList
    qualifying_questions: LocalizedList
    conversation_script: LocalizedList
    signals: Signals
    objections: list[Objection] = Field(min_length=2)
    playbook: list[Move] = Field(min_length=8)

    @field_validator("playbook")
    @classmethod
    def _two_of_each_kind(cls, moves: list[Move]) -> list[Move]:
        for kind in MOVE_KINDS:
            if sum(m.kind == kind for m in moves) < 2:
                raise ValueError(f"needs at least two {kind!r} moves (degraded mode offers 'generate others')")
        return moves


class Fact(Strict):
    text: Localized
    verify: bool = Field(default=False, description="A number or rule the company must confirm before relying on it.")


class KnowledgeModule(Strict):
    slug: Slug
    title: Localized
    summary: Localized
    keywords: KeywordSet
    archetypes: list[Slug] = Field(default_factory=list, description="Archetypes this module often serves.")
    facts: list[Fact] = Field(min_length=3)
    strategies: list[Localized] = Field(min_length=2)
    body: str = Field(default="", description="Markdown after the front matter: the longer talk track.")


class Cue(Strict):
    """A generic buying or risk signal (e.g. asks about delivery dates), used by the scoring rules."""

    label: Localized
    keywords: KeywordSet
    # When set, a sentence that shows this cue is kept as a key fact under this name ("Budżet: do 250 tys."):
    # the client's memory without an LLM, carried into the next visit.
    fact: Localized | None = None
    requires: str | None = Field(
        default=None, description="Another cue that must show in the same note for this one to count."
    )


class DomainPack(BaseModel):
    model_config = ConfigDict(frozen=True)

    archetypes: dict[str, Archetype]
    knowledge: dict[str, KnowledgeModule]
    cues: dict[str, Cue]


def _problems(exc: ValidationError) -> list[str]:
    return [f"{'.'.join(str(p) for p in err['loc']) or '(file)'}: {err['msg']}" for err in exc.errors()]


def _read_toml(path: Path, text: str) -> dict[str, object]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PackError(path, [f"not valid TOML: {exc}"]) from None


FRONT_MATTER = re.compile(r"\A\+\+\+\n(?P<front>.*?)\n\+\+\+\n?(?P<body>.*)\Z", re.DOTALL)


_Item = TypeVar("_Item", Archetype, KnowledgeModule)


def _validated(model: type[_Item], path: Path, data: dict[str, object]) -> _Item:
    try:
        item = model.model_validate(data)
    except ValidationError as exc:
        raise PackError(path, _problems(exc)) from None
    if item.slug != path.stem:
        raise PackError(path, [f"slug: {item.slug!r} must match the file name {path.stem!r}"])
    return item


def load_archetype(path: Path) -> Archetype:
    return _validated(Archetype, path, _read_toml(path, path.read_text(encoding="utf-8")))


def load_knowledge(path: Path) -> KnowledgeModule:
    match = FRONT_MATTER.match(path.read_text(encoding="utf-8"))
    if match is None:
        raise PackError(path, ["must start with TOML front matter between '+++' lines"])
    data = _read_toml(path, match["front"])
    data["body"] = match["body"].strip()
    return _validated(KnowledgeModule, path, data)


def load_cues(path: Path) -> dict[str, Cue]:
    data = _read_toml(path, path.read_text(encoding="utf-8"))
    cues: dict[str, Cue] = {}
    for slug, raw in data.items():
        try:
            cues[slug] = Cue.model_validate(raw)
        except ValidationError as exc:
            raise PackError(path, [f"{slug}.{p}" for p in _problems(exc)]) from None
    unknown = [
        f"{slug}.requires: unknown cue {c.requires!r}" for slug, c in cues.items() if c.requires not in (None, *cues)
    ]
    if unknown:
        raise PackError(path, unknown)
    return cues


def load_pack(root: Path) -> DomainPack:
    """Load ``archetypes/*.toml``, ``knowledge/*.md`` and ``scoring_rules/cues.toml`` under ``root``."""
    archetypes = {p.stem: load_archetype(p) for p in sorted((root / "archetypes").glob("*.toml"))}
    knowledge = {p.stem: load_knowledge(p) for p in sorted((root / "knowledge").glob("*.md")) if p.stem != "README"}
    cues_path = root / "scoring_rules" / "cues.toml"
    cues = load_cues(cues_path) if cues_path.exists() else {}
    for module in knowledge.values():
        unknown = [a for a in module.archetypes if a not in archetypes]
        if unknown:
            raise PackError(root / "knowledge" / f"{module.slug}.md", [f"archetypes: unknown {unknown}"])
    return DomainPack(archetypes=archetypes, knowledge=knowledge, cues=cues)


if __name__ == "__main__":
    import sys

    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path.cwd()
    try:
        pack = load_pack(root)
    except PackError as exc:
        print(f"INVALID {exc.path}:\n  " + "\n  ".join(exc.problems))
        sys.exit(1)
    print(f"ok: {len(pack.archetypes)} archetypes, {len(pack.knowledge)} knowledge modules, {len(pack.cues)} cues")
