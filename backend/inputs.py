"""Input PostgreSQL cannot store, refused where it enters — HTTP bodies and parameters, both sockets — with a
400 that names the field, instead of failing later in the database (which used to read as "database down").

PostgreSQL's text holds no NUL character and no lone UTF-16 surrogate (JSON's ``"\\u0000"``, ``"\\ud800"``); its
ids are bigint. Deeply nested JSON is refused before it is parsed: nothing Sufler accepts nests past a few
levels, and walking 5,000 levels exhausts the parser's stack.
"""

from __future__ import annotations

import json
import re
from typing import Any

from litestar import Request

from backend.errors import InvalidInput

__all__ = ("MAX_DEPTH", "UnstorableInput", "check", "check_request", "parse_json", "too_deep")

MAX_DEPTH = 32
BIGINT = 2**63 - 1
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")
_UNSTORABLE_CHAR = re.compile("[\x00\ud800-\udfff]")


class UnstorableInput(InvalidInput):
    status_code = 400
    code = "bad_request"

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}", details=[f"{field}: {problem}"])
        self.field = field


def too_deep(raw: str | bytes, limit: int = MAX_DEPTH) -> bool:
    """Whether JSON text nests objects/arrays deeper than ``limit`` (brackets inside strings do not count)."""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    if text.count("[") + text.count("{") <= limit:
        return False  # the common case, decided without a scan
    depth = 0
    for bracket in _BRACKET.findall(_STRING.sub("", text)):
        depth += 1 if bracket in "[{" else -1
        if depth > limit:
            return True
    return False


def check(value: Any, field: str) -> None:
    """Raise :class:`UnstorableInput` for the first string or integer in ``value`` the database cannot hold."""
    if isinstance(value, str):
        if (bad := _UNSTORABLE_CHAR.search(value)) is not None:
            what = "a NUL character" if bad.group() == "\x00" else "an unpaired surrogate"
            raise UnstorableInput(field, f"contains {what}, which cannot be stored")
    elif isinstance(value, bool):
        return
    elif isinstance(value, int):
        if not -BIGINT - 1 <= value <= BIGINT:
            raise UnstorableInput(field, "the number is out of range")
    elif isinstance(value, dict):
        for key, item in value.items():
            check(key, field)
            check(item, f"{field}.{key}" if field else str(key))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            check(item, f"{field}.{index}" if field else str(index))


def parse_json(raw: str | bytes) -> Any:
    """JSON text as Python values, refused when too deep or unstorable. :class:`ValueError` when not JSON."""
    if too_deep(raw):
        raise UnstorableInput("body", f"nested deeper than {MAX_DEPTH} levels")
    value = json.loads(raw)
    check(value, "")
    return value


async def check_request(request: Request[Any, Any, Any]) -> None:
    """Litestar ``before_request``: path and query parameters, and a JSON body, hold only storable values."""
    for name, value in request.path_params.items():
        check(value, name)
    for name, value in request.query_params.multi_items():
        check(value, name)
    if request.method in ("POST", "PUT", "PATCH") and request.content_type[0] == "application/json":
        body = await request.body()
        try:
            parse_json(body)
        except ValueError:
            return  # not JSON: the handler's own parsing answers that with its 400
