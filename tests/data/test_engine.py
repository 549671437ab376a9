"""The fast path on the shipped pack: indicators, knowledge, degraded moves, reindexing."""

from __future__ import annotations

from backend.domain.copilot.build import BuiltEngine
from backend.domain.engine.engine import Beliefs
from backend.domain.engine.knowledge_index import COLLECTION, KnowledgeIndex
from backend.domain.pack.pack import DomainPack


def test_keywords_pull_knowledge_and_move_indicators(built: BuiltEngine) -> None:
    engine = built.engine
    state = Beliefs()
    first = engine.fast_result(state, "Klient pyta, czy może kupić auto na firmę w leasingu i odliczyć VAT")
    assert first.knowledge[0].slug == "company-purchase"
    baseline = first.scores.values["purchase_readiness"]
    second = engine.fast_result(state, "Pyta o termin dostawy i chce zamówić jeszcze w tym miesiącu")
    assert second.scores.values["purchase_readiness"] >= baseline + 30
    rules = {c.rule_id for c in second.scores.explanations["purchase_readiness"]}
    assert {"wants-to-order", "asks-delivery-date"} <= rules
    # The company module stays in play for a few observations after it was triggered.
    assert "company-purchase" in [k.slug for k in second.knowledge]


def test_fun_drive_risk_rises_for_a_joyrider(built: BuiltEngine) -> None:
    state = Beliefs()
    result = built.engine.fast_result(state, "Chce tylko się przejechać na weekend, dla zabawy, pyta o 0-100")
    assert result.scores.values["fun_drive_risk"] >= 40
    assert "fun-test-drive-only" in {c.rule_id for c in result.scores.explanations["fun_drive_risk"]}


def test_degraded_moves_are_four_kinds_and_regenerate_gives_others(built: BuiltEngine) -> None:
    engine = built.engine
    result = engine.fast_result(Beliefs(), "Przyjechał z żoną i trójką dzieci, sprawdza miejsce na foteliki Isofix")
    moves = engine.playbook_moves(result.archetypes, "pl")
    assert [m.kind for m in moves] == ["question", "argument", "objection_response", "action"]
    assert all(m.text and m.why for m in moves)
    others = engine.playbook_moves(result.archetypes, "pl", exclude=frozenset(m.text for m in moves))
    assert not {m.text for m in moves} & {m.text for m in others}


def test_reindexing_is_idempotent_and_follows_file_changes(built: BuiltEngine) -> None:
    index = built.engine.index
    assert built.index_report.added == len(index.pack.knowledge)
    again = index.sync()
    assert (again.added, again.updated, again.removed) == (0, 0, 0)

    pack = index.pack
    modules = dict(pack.knowledge)
    removed = modules.pop("trade-in")
    changed = modules["range-charging"].model_copy(update={"body": "A new talk track."})
    modules["range-charging"] = changed
    smaller = KnowledgeIndex(
        DomainPack(archetypes=pack.archetypes, knowledge=modules, cues=pack.cues), index.embedder, index.store
    )
    report = smaller.sync()
    assert (report.added, report.updated, report.removed) == (0, 1, 1)
    assert removed.slug not in {p.key for p in index.store.all_points(COLLECTION)}
    index.sync()  # put the shipped pack back for the other tests


def test_the_brand_a_client_leaves_for_is_not_loyalty(built: BuiltEngine) -> None:
    """'Bierze jednak BMW' is churn, not a premium loyalist; 'od lat jeździ BMW' still is one."""
    chose = built.engine.fast_result(Beliefs(), "bierze jednak BMW")
    assert chose.scores.values["churn_risk"] >= 60
    assert chose.archetypes[0].probability < 0.2  # no archetype learnt from it
    loyal = built.engine.fast_result(Beliefs(), "Od lat jeździ BMW, ceni wykończenie")
    assert loyal.archetypes[0].slug == "premium-loyalist"


def test_a_phrase_outweighs_a_word(built: BuiltEngine) -> None:
    assert built.engine.fast_result(Beliefs(), "nie czai tematu ładowania").archetypes[0].slug == "undecided-explorer"
