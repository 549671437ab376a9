"""A valid answer is never cut short: each structured call's token limit covers the longest answer its schema
allows, at 1.5 characters a token (gemma3 filling a Polish summary wrote 1.7; a limit below the schema's bound
once cut a valid summary mid-string and the memory was not compacted)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from backend.domain.copilot.llm_outputs import Assessment, KeyFacts, NextMoves, Strategy, Summary
from backend.settings import LLMSettings

WORST_CHARACTERS_PER_TOKEN = 1.5


def longest(schema: dict[str, Any], defs: dict[str, Any]) -> int:
    """The most characters of JSON an answer to ``schema`` can take (quotes, commas and keys included)."""
    if "$ref" in schema:
        return longest(defs[schema["$ref"].rsplit("/", 1)[-1]], defs)
    if "anyOf" in schema:
        return max(longest(option, defs) for option in schema["anyOf"])
    if "enum" in schema:
        return max(len(str(value)) for value in schema["enum"]) + 2
    kind = schema["type"]
    if kind == "string":
        return int(schema["maxLength"]) + 2  # unbounded strings fail here: every answer must be bounded
    if kind == "array":
        return int(schema["maxItems"]) * (longest(schema["items"], defs) + 2) + 2
    assert kind == "object", schema
    return sum(len(key) + 4 + longest(value, defs) for key, value in schema["properties"].items()) + 2


@pytest.mark.parametrize(
    ("kind", "answer"),
    [("assessment", Assessment), ("moves", NextMoves), ("strategy", Strategy), ("summary", Summary),
     ("key_facts", KeyFacts)],
)  # fmt: skip
def test_the_token_limit_covers_the_longest_valid_answer(kind: str, answer: type[BaseModel]) -> None:
    schema = answer.model_json_schema()
    need = longest(schema, schema.get("$defs", {})) / WORST_CHARACTERS_PER_TOKEN
    assert LLMSettings().max_tokens_for(kind) >= need
