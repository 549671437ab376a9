"""Replay scenarios per archetype, in Polish and English: the right archetype leads, and it can change."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from backend.domain.copilot.build import BuiltEngine
from backend.domain.engine.engine import Beliefs

ROOT = Path(__file__).resolve().parents[2]

SCENARIOS = {
    "status-seeker": [
        "Prezes firmy, mówi że sąsiad ma już Teslę i chce coś bardziej prestiżowego",
        "He wants the car that gets noticed at the golf club, mentions his partners all drive luxury cars",
    ],
    "family-guardian": [
        "Przyjechał z żoną i dwójką dzieci, pyta o foteliki Isofix i bezpieczeństwo",
        "Mother of three asks about crash test results and whether two child seats fit in the back",
    ],
    "pragmatic-analyst": [
        "Ma arkusz kalkulacyjny, liczy koszt na kilometr i zwrot z inwestycji w porównaniu z dieslem",
        "Engineer, wants the total cost of ownership over five years and the ROI compared with his diesel",
    ],
    "eco-enthusiast": [
        "Zależy jej na ekologii, pyta o ślad węglowy produkcji baterii i recykling",
        "Cares about the planet, asks about the CO2 footprint and whether she can charge from renewable energy",
    ],
    "tech-pioneer": [
        "Zachwycony aktualizacjami oprogramowania przez internet, pyta o aplikację i nowe funkcje",
        "Software developer, loves gadgets, asks about over-the-air updates and the API of the app",
    ],
    "technical-skeptic": [
        "Boi się, że bateria padnie po kilku latach i że zimą zasięg spadnie o połowę",
        "Worried the battery will degrade and that range in winter is too low for his trips",
    ],
    "premium-loyalist": [
        "Od 20 lat jeździ Mercedesem, porównuje jakość wykończenia z klasą E",
        "Has driven BMWs for fifteen years and expects the same dealership service and craftsmanship",
    ],
    "bargain-hunter": [
        "Pyta tylko o rabat i czy jest jakaś promocja na auto demonstracyjne",
        "Keeps asking for a discount, wants the best deal and free extras, mentions a cheaper offer",
    ],
    "undecided-explorer": [
        "Pierwszy raz myśli o elektryku, nie wie jak się ładuje i prosi o proste wyjaśnienie",
        "First EV ever, does not understand how charging works and asks basic questions about electric cars",
    ],
    "performance-enthusiast": [
        "Pyta o przyspieszenie 0-100 i tryb torowy, chce poczuć moc",
        "Wants to know the 0-60 time, launch mode and how it handles on a track",
    ],
}


def run_replay(source: Path, data_dir: Path) -> subprocess.CompletedProcess[str]:
    """`sufler replay --no-llm` as a user runs it, with a clean environment (no hub, no configuration)."""
    return subprocess.run(
        [sys.executable, "-m", "backend.cli", "replay", "--no-llm", str(source)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1", "SUFLER_DATA_DIR": str(data_dir)},
    )


CASES = [(slug, text) for slug, texts in SCENARIOS.items() for text in texts]


@pytest.mark.parametrize(
    ("slug", "observation"), CASES, ids=[f"{s}-{(i % 2 and 'en') or 'pl'}" for i, (s, _) in enumerate(CASES)]
)
def test_one_observation_classifies_the_archetype(built: BuiltEngine, slug: str, observation: str) -> None:
    result = built.engine.fast_result(Beliefs(), observation)
    assert result.archetypes[0].slug == slug
    assert result.archetypes[0].reasons  # the leader is explained


def test_evidence_accumulates_and_a_strong_signal_overturns_the_leader(built: BuiltEngine) -> None:
    engine = built.engine
    state = Beliefs()
    engine.fast_result(state, "Pyta o rabat i promocję")
    after_two = engine.fast_result(state, "Szuka najtańszej oferty, porównuje ceny")
    assert after_two.archetypes[0].slug == "bargain-hunter"
    overturned = engine.fast_result(state, SCENARIOS["family-guardian"][0])
    overturned = engine.fast_result(state, SCENARIOS["family-guardian"][1])
    assert overturned.archetypes[0].slug == "family-guardian"
    assert overturned.leader_changed or after_two.archetypes[0].slug != overturned.archetypes[0].slug


def test_replay_command_prints_one_json_object_per_observation(tmp_path: Path) -> None:
    lines = [json.dumps({"observation": text}) for text in SCENARIOS["family-guardian"]]
    source = tmp_path / "session.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    done = run_replay(source, tmp_path / "data")
    assert done.returncode == 0, done.stderr
    outputs = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(outputs) == 2
    for out in outputs:
        assert out["mode"] == "degraded"
        assert len(out["archetypes"]) == 10
        probabilities = [a["probability"] for a in out["archetypes"]]
        assert probabilities == sorted(probabilities, reverse=True)
        assert abs(sum(probabilities) - 1) < 0.01
        assert set(out["indicators"]) == {
            "purchase_readiness",
            "churn_risk",
            "fun_drive_risk",
            "deal_potential",
            "archetype_confidence",
        }
        assert all(0 <= v <= 100 for v in out["indicators"].values())
        assert len(out["moves"]) == 4 and all(m["text"] for m in out["moves"])
    assert outputs[-1]["archetypes"][0]["slug"] == "family-guardian"
    assert "family-safety" in outputs[-1]["knowledge"]


def test_replay_refuses_malformed_input_with_the_line_number(tmp_path: Path) -> None:
    source = tmp_path / "bad.jsonl"
    source.write_text('{"observation": "ok"}\n{"note": 1}\n', encoding="utf-8")
    done = run_replay(source, tmp_path / "data")
    assert done.returncode == 1
    assert "line 2" in done.stderr
    assert len(done.stdout.splitlines()) == 1  # what came before the bad line was still answered
