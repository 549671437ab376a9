"""The protocol pages in docs/ describe exactly what the models say: every message type, every field."""

from __future__ import annotations

import re
import typing
from pathlib import Path

import pytest
from pydantic import BaseModel

from backend.domain.protocol import cockpit, widget

DOCS = Path(__file__).resolve().parents[2] / "docs"
ENVELOPE = {"v", "type", "seq", "session_id"}


def models(union: object) -> list[type[BaseModel]]:
    members = typing.get_args(typing.get_args(union)[0])
    return [m for m in members if isinstance(m, type) and issubclass(m, BaseModel)]


def documented_rows(page: str, heading: str) -> dict[str, str]:
    """``{type: the rest of its table row}`` of the table under ``heading``."""
    section = page.split(f"## {heading}", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([a-z_]+)` \|(.*)$", section, flags=re.M)
    return dict(rows)


def message_type(model: type[BaseModel]) -> str:
    """The ``type`` literal of a message model."""
    (kind,) = typing.get_args(model.model_fields["type"].annotation)
    return str(kind)


def wire_name(model: type[BaseModel], name: str) -> str:
    alias = model.model_fields[name].alias
    return alias or name


CASES = [
    ("protocol.md", "Client → server", cockpit.ClientMessage),
    ("protocol.md", "Server → client", cockpit.ServerEvent),
    ("widget-protocol.md", "Widget → server", widget.WidgetFrame),
    ("widget-protocol.md", "Server → widget", widget.ServerFrame),
]


@pytest.mark.parametrize(("page", "heading", "union"), CASES)
def test_every_message_type_and_field_is_documented(page: str, heading: str, union: object) -> None:
    rows = documented_rows((DOCS / page).read_text(encoding="utf-8"), heading)
    kinds = {message_type(m): m for m in models(union)}
    assert set(rows) == set(kinds), f"{page} {heading}: documented {sorted(rows)}, models {sorted(kinds)}"
    for kind, model in kinds.items():
        fields = {wire_name(model, name) for name in model.model_fields} - ENVELOPE
        missing = sorted(f for f in fields if f"`{f}`" not in rows[kind])
        assert not missing, f"{page}: `{kind}` does not document {missing}"


def test_every_error_code_the_widget_can_send_is_documented() -> None:
    page = (DOCS / "widget-protocol.md").read_text(encoding="utf-8")
    source = (Path(widget.__file__).parent.parent / "bots" / "channels" / "web.py").read_text(encoding="utf-8")
    source += Path(widget.__file__).read_text(encoding="utf-8")
    codes = set(re.findall(r'FrameError\(\s*"([a-z_]+)"', source)) | set(re.findall(r'code="([a-z_]+)"', source))
    documented = set(documented_rows(page, "Error codes"))
    assert codes <= documented, f"undocumented widget error codes: {sorted(codes - documented)}"
