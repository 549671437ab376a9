from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from backend.domain.copilot.build import BuiltEngine, build_engine
from backend.settings import PackSettings, Settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BuiltEngine]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("engine"), pack=PackSettings(dir=ROOT))
    built = build_engine(settings, in_memory=True)
    yield built
    built.close()
