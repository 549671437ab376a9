"""Personal data out of the logs: e-mail addresses, phone numbers and client names, wherever they appear.

Three nets, because names cannot be recognised by their shape:

- a value under a personal key (``name``, ``contact_info``, ``phone``, ``email``, ``username`` ...) is replaced
  whole, at any depth of the event;
- e-mail addresses and phone numbers are found by pattern in every string, the event text and rendered
  tracebacks included; so are the places where errors quote the data they failed on (SQLAlchemy's
  ``[parameters: ...]``, PostgreSQL's ``Key (name)=(...)``, pydantic's ``input_value=...``);
- names the process has been told about (:meth:`Redactor.remember`) are replaced wherever they occur.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, MutableMapping
from typing import Any

__all__ = ("EMAIL", "PHONE", "Redactor")

REDACTED = "[redacted]"

# The local part takes every character an address may hold unquoted (RFC 5322 atext), so a partial match cannot
# leave a readable fragment behind; the domain is dot-separated labels.
EMAIL = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")
# 9 to 15 digits (a Polish number has 9; E.164 allows 15), optionally with a leading + and the separators people
# type. Not glued to letters or digits, so longer digit runs (amounts, ids), digits inside hex ids and short
# numbers (ports, statuses) stay.
PHONE = re.compile(r"(?<![^\W_]|\+)\+?\d(?:[\s().\-/]{0,3}\d){8,14}(?![^\W_])")
# Error messages that quote the failing values: SQLAlchemy (one line, a repr), PostgreSQL unique violations,
# pydantic validation errors.
QUOTED_DATA = (
    (re.compile(r"^\[parameters: .*$", re.MULTILINE), f"[parameters: {REDACTED}]"),
    (re.compile(r"(Key \([^)]*\)=\().*?(\) already exists|\) is not present)"), rf"\g<1>{REDACTED}\g<2>"),
    (re.compile(r"(input_value=).*?(, input_type=)"), rf"\g<1>{REDACTED}\g<2>"),
)
PERSONAL_KEYS = frozenset(
    {
        "name",
        "first_name",
        "last_name",
        "full_name",
        "client_name",
        "customer_name",
        "contact",
        "contact_info",
        "phone",
        "phone_number",
        "telephone",
        "email",
        "e_mail",
        "username",
        "user_name",
        "address",
    }
)
MIN_NAME_LENGTH = 3  # shorter "names" would blank out ordinary words
MAX_NAMES = 10_000  # the oldest are forgotten first; the patterns and keys still apply


class Redactor:
    """Redacts personal data from log events; usable as a structlog processor."""

    def __init__(self, names: tuple[str, ...] = ()) -> None:
        self._names: dict[str, None] = {}  # an ordered set, lower-cased
        self._names_pattern: re.Pattern[str] | None = None
        self.remember(*names)

    def remember(self, *names: str) -> None:
        """Redact these names (client names, case-insensitive) wherever they appear from now on."""
        for name in names:
            key = " ".join(name.split()).lower()
            if len(key) >= MIN_NAME_LENGTH and key not in self._names:
                self._names[key] = None
                if len(self._names) > MAX_NAMES:
                    del self._names[next(iter(self._names))]
                self._names_pattern = None

    def text(self, text: str) -> str:
        for pattern, replacement in QUOTED_DATA:
            text = pattern.sub(replacement, text)
        text = EMAIL.sub("[email]", text)
        text = PHONE.sub("[phone]", text)
        if self._names:
            if self._names_pattern is None:
                # Longest first, so "Jan Kowalski" wins over a remembered "Jan"; whitespace inside a name may vary.
                words = sorted(self._names, key=len, reverse=True)
                alternatives = "|".join(r"\s+".join(map(re.escape, n.split())) for n in words)
                self._names_pattern = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)
            text = self._names_pattern.sub("[name]", text)
        return text

    def value(self, value: Any, key: str = "") -> Any:
        """A redacted copy of any log value; containers are walked, other objects redacted as their repr."""
        normalized = key.lower().replace("-", "_")
        if normalized in PERSONAL_KEYS:
            return None if value is None else REDACTED
        if isinstance(value, str):
            return self.text(value)
        if value is None or isinstance(value, bool | int | float):
            return value
        if isinstance(value, Mapping):
            return {k: self.value(v, str(k)) for k, v in value.items()}
        if isinstance(value, list | tuple | set | frozenset):
            return [self.value(v) for v in value]
        # What the renderers would print anyway (JSON falls back to repr), with the data taken out.
        return self.text(repr(value))

    def __call__(self, logger: Any, method_name: str, event_dict: MutableMapping[str, Any]) -> dict[str, Any]:
        return {
            key: value if key.startswith("_") else self.value(value, key)  # structlog's own meta keys
            for key, value in event_dict.items()
        }
