"""Any name the pack editor accepts is a plain file directly inside its kind's folder."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from backend.domain.review.pack_files import KINDS, check_name
from backend.errors import InvalidInput, NotFound

FOLDER = Path("/srv/pack/scoring_rules")
names = st.text(max_size=90) | st.text(alphabet="./\\-_ a%0Ztoml", max_size=30) | st.sampled_from(["..", "."])


@given(kind=st.sampled_from([*KINDS, "prompts", ""]), name=names)
@example(kind="rules", name="../cues.toml")
@example(kind="knowledge", name="..\\x.md")
@example(kind="rules", name="cues.toml\x00")
def test_an_accepted_name_stays_in_its_folder(kind: str, name: str) -> None:
    try:
        spec = check_name(kind, name)
    except (InvalidInput, NotFound):
        return
    assert PurePosixPath(name).name == name and "\\" not in name and "\x00" not in name
    assert not name.startswith(".") and name.endswith(spec.suffix)
    assert (FOLDER / name).resolve().parent == FOLDER.resolve()


@pytest.mark.parametrize("name", ["indicators.toml", "cues.toml", "extra_rules.toml", "team-2.toml"])
def test_plain_rule_file_names_are_accepted(name: str) -> None:
    assert check_name("rules", name).folder == "scoring_rules"
