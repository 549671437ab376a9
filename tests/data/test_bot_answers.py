"""The bot's answer without an LLM: the fact that answers the question, short, more on request, and a wish to
leave a contact understood in words."""

from __future__ import annotations

from typing import Any

from backend.domain.bots.dialog import Dialog
from backend.domain.bots.facts import MAX_ANSWER_CHARS
from backend.domain.copilot.build import BuiltEngine


async def ask(dialog: Dialog, texts: list[str], collected: dict[str, Any]) -> list[str]:
    turn = await dialog.answer(texts, collected)
    return [r.text for r in turn.replies]


async def test_a_price_question_gets_the_price_fact_marked_to_be_confirmed(built: BuiltEngine) -> None:
    dialog = Dialog(built.copilot)
    collected: dict[str, Any] = {}
    answer = (await ask(dialog, ["Ile kosztuje Model Y?"], collected))[0]
    assert "Ceny" in answer and "(do potwierdzenia przez salon)" in answer
    assert len(answer) <= MAX_ANSWER_CHARS
    more = (await ask(dialog, ["Ile kosztuje Model Y?", "więcej"], collected))[0]
    assert more != answer and len(more) <= MAX_ANSWER_CHARS


async def test_answers_stay_short_and_more_runs_out_politely(built: BuiltEngine) -> None:
    dialog = Dialog(built.copilot)
    collected: dict[str, Any] = {}
    texts = ["How far does it go in winter on the motorway?"]
    answers = [(await ask(dialog, texts, collected))[0]]
    for _ in range(7):
        texts.append("more")
        answers.append((await ask(dialog, texts, collected))[0])
    assert all(len(a) <= MAX_ANSWER_CHARS for a in answers)
    assert "motorway" in answers[0] and "freezing" in answers[0]  # the fact about winter and motorway range
    assert len(set(answers[:6])) == 6  # each "more" a new fact
    assert answers[-1] == "That is all I know about it. Would you like to talk to a salesperson?"


async def test_a_wish_to_leave_a_contact_in_words_offers_the_contact_button(built: BuiltEngine) -> None:
    dialog = Dialog(built.copilot)
    for text in ["Chętnie zostawię numer telefonu", "Can I leave my number?", "Proszę o telefon, oddzwońcie"]:
        turn = await dialog.answer([text], {})
        assert [r.ask_contact for r in turn.replies] == [True], text
    turn = await dialog.answer(["Zadzwońcie do mnie"], {"contact": "sealed"})
    assert turn.replies[0].text == "Mamy już Twój kontakt — doradca się odezwie."
