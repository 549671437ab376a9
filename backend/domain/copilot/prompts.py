"""Render the prompts/*.j2 templates into chat messages.

Every template defines a ``system`` and a ``user`` block. Undefined variables raise (StrictUndefined), so a
template and the context built here cannot drift apart silently; the data tests render every template.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateError

from backend.domain.copilot.conversation import Conversation, Turn
from backend.domain.pack.pack import DomainPack, PackError

__all__ = ("TEMPLATES", "Prompts")

TEMPLATES = ("assessment", "moves", "advisor", "strategy", "summary", "key_facts", "bot_answer")
LANGUAGE_NAMES = {"pl": "Polish", "en": "English"}
TOP_ARCHETYPES = 4
# The three best-matching modules: a fourth cost ~800 tokens of every advising prompt for little the moves used.
MAX_KNOWLEDGE = 3


def data(text: object, tag: str) -> str:
    """Wrap people's text (or what a model derived from it) in <tag>…</tag>.

    Every ``<``, ``>`` and ``&`` inside is written as an entity, so the text holds no tag at all: no closer of
    this or any other tag, however nested or spaced, can end the data early or open a tag of its own.
    """
    body = str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f"<{tag}>{body}</{tag}>"


class Prompts:
    def __init__(self, directory: Path, pack: DomainPack) -> None:
        self.pack = pack
        self.env = Environment(
            loader=FileSystemLoader(directory),
            undefined=StrictUndefined,
            autoescape=False,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
        )
        self.env.filters["data"] = data
        missing = [name for name in TEMPLATES if not (directory / f"{name}.j2").is_file()]
        if missing:
            raise PackError(directory, [f"missing template {name}.j2" for name in missing])

    def messages(self, name: str, conv: Conversation, **extra: Any) -> list[dict[str, str]]:
        template = self.env.get_template(f"{name}.j2")
        values = {**self.context(conv), **extra}
        since = values["since"]
        if since and since[-1]["kind"] == "advisor" and since[-1]["text"] == values["question"]:
            values["since"] = since[:-1]  # the advisor template shows the question being asked itself
        context = template.new_context(values)
        try:
            system = "".join(template.blocks["system"](context)).strip()
            user = "".join(template.blocks["user"](context)).strip()
        except TemplateError as exc:
            raise PackError(Path(template.filename or name), [f"cannot render: {exc}"]) from exc
        return [{"role": "system", "content": system}, {"role": "user", "content": user}]

    def context(self, conv: Conversation) -> dict[str, Any]:
        lang = conv.language
        fast = conv.fast
        archetypes = []
        leader = None
        knowledge = []
        indicators: dict[str, int] = {}
        if fast is not None:
            for score in fast.archetypes[:TOP_ARCHETYPES]:
                archetype = self.pack.archetypes[score.slug]
                archetypes.append(
                    {"slug": score.slug, "name": archetype.name.get(lang), "percent": round(100 * score.probability)}
                )
            if conv.state.leader is not None:
                a = self.pack.archetypes[conv.state.leader]
                leader = {
                    "slug": a.slug,
                    "name": a.name.get(lang),
                    "description": a.description.get(lang),
                    "motivations": a.motivations.get(lang),
                    "way_of_speaking": a.way_of_speaking.get(lang),
                }
            for item in fast.knowledge[:MAX_KNOWLEDGE]:
                module = self.pack.knowledge[item.slug]
                knowledge.append(
                    {
                        "slug": module.slug,
                        "title": module.title.get(lang),
                        "facts": [{"text": f.text.get(lang), "verify": f.verify} for f in module.facts],
                        "strategies": [s.get(lang) for s in module.strategies],
                    }
                )
            indicators = dict(fast.scores.values)
        # The latest observation is shown on its own; the turns before it and those since (the advisor chat about
        # it) around it.
        latest = max((i for i, t in enumerate(conv.turns) if t.kind == "observation"), default=len(conv.turns))
        return {
            "language": lang,
            "language_name": LANGUAGE_NAMES.get(lang, "English"),
            "observation": conv.observation,
            "summary": conv.summary,
            "key_facts": conv.key_facts,
            "earlier_sessions": conv.earlier_sessions,
            "archetypes": archetypes,
            "leader": leader,
            "knowledge": knowledge,
            "turns": [_turn(t) for t in conv.turns[:latest]],
            "since": [_turn(t) for t in conv.turns[latest + 1 :]],
            "indicators": indicators,
            "assessment": conv.assessment.model_dump() if conv.assessment is not None else None,
            "shown_moves": [],
            "question": "",
            "old_turns": [],
        }


def _turn(turn: Turn) -> dict[str, str]:
    return {"kind": turn.kind, "text": turn.text}
