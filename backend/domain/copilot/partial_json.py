"""Read the finished members of a JSON object that is still streaming in.

The LLM streams ``{"question": {...}, "argument": {...}, ...}`` a few characters at a time; the cockpit shows
each move as soon as its value is complete instead of waiting for the whole object.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ("completed_members",)


def completed_members(text: str) -> dict[str, Any]:
    """The members of the top-level object in ``text`` whose values are complete (valid JSON so far)."""
    members: dict[str, Any] = {}
    start = text.find("{")
    if start < 0:
        return members
    depth = 0
    in_string = escaped = False
    key: str | None = None
    key_start = value_start = -1
    for i in range(start, len(text)):
        ch = text[i]
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
                if depth == 1 and key is None and key_start >= 0:
                    key = _loads(text[key_start : i + 1])
                    key_start = -1
            continue
        if ch == '"':
            in_string = True
            if depth == 1 and key is None and value_start < 0:
                key_start = i
        elif ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
            if depth == 0:
                _finish(members, key, text, value_start, i)
                return members
        elif depth == 1 and ch == ":" and key is not None:
            value_start = i + 1
        elif depth == 1 and ch == ",":
            _finish(members, key, text, value_start, i)
            key, value_start = None, -1
    return members


def _finish(members: dict[str, Any], key: str | None, text: str, value_start: int, end: int) -> None:
    if isinstance(key, str) and value_start >= 0:
        value = _loads(text[value_start:end])
        if value is not _INVALID:
            members[key] = value


_INVALID = object()


def _loads(fragment: str) -> Any:
    try:
        return json.loads(fragment)
    except json.JSONDecodeError:
        return _INVALID
