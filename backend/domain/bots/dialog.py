"""What a customer bot says, channel-independent: greeting with the consent notice, grounded answers from the
knowledge base (LLM when reachable, retrieved facts otherwise), qualifying questions, and when to hand over."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import structlog

from backend.adapters.llm import LLMError
from backend.domain.bots.answer_cache import AnswerCache, answer_key, pack_fingerprint
from backend.domain.bots.facts import MORE, FactRef, ranked_facts, short
from backend.domain.copilot.conversation import Conversation
from backend.domain.copilot.copilot import Copilot
from backend.domain.copilot.grounding import knowledge_text, unsupported_claims
from backend.domain.copilot.prompts import MAX_KNOWLEDGE
from backend.domain.engine.engine import guess_language

__all__ = ("BotReply", "BotTurn", "Dialog")

log = structlog.get_logger(__name__)

HIGH_INTENT = 60  # purchase readiness at which the bot offers a salesperson right away
# An anonymous customer can make the bot call the LLM; past this many answers a conversation gets the facts only.
LLM_ANSWERS_PER_CONVERSATION = 20
HUMAN = re.compile(
    r"\b(człowiek\w*|konsultant\w*|sprzedawc\w*|doradc\w*|handlowc\w*|human|person|agent|salesperson|someone)\b",
    re.IGNORECASE,
)
# A wish to leave a contact, in the customer's words (the button is not the only way to say it).
CONTACT_WISH = re.compile(
    r"\b(zostawi\w*|podam|podać|podac|dam)\b.{0,25}\b(numer\w*|telefon\w*|kontakt\w*|mail\w*|e-mail\w*)"
    r"|\b(zadzwoń\w*|zadzwon\w*|oddzwo\w*|skontaktuj\w*|call me|ring me|contact me|reach me)\b"
    r"|\bleave (my|a|the) (number|phone|contact|e-?mail)",
    re.IGNORECASE,
)
QUALIFYING = ("needs", "timeline", "budget", "company")
MORE_FACTS_KEPT = 5  # facts kept for "more" after an answer

TEXT = {
    "greeting": {
        "pl": "Dzień dobry! Jestem asystentem salonu. Odpowiem na pytania o auta elektryczne i w razie potrzeby "
        "przekażę rozmowę doradcy. Zapisujemy tę rozmowę, żeby doradca znał jej kontekst; dane kontaktowe "
        "zbieramy tylko, jeśli sam je udostępnisz.",
        "en": "Hello! I am the showroom's assistant. I answer questions about electric cars and can pass you to a "
        "salesperson. We keep this chat so the salesperson knows its context; we collect contact details only "
        "if you share them yourself.",
    },
    "help": {
        "pl": "Napisz pytanie (np. o zasięg, ładowanie, leasing). „Doradca” — rozmowa z człowiekiem.",
        "en": "Ask a question (range, charging, leasing...). “Salesperson” — talk to a human.",
    },
    # Meta shows 20 characters of a button's title
    "human_button": {"pl": "Rozmowa z doradcą", "en": "Ask a salesperson"},
    "contact_button": {"pl": "Udostępnij kontakt", "en": "Share my contact"},
    "handover": {
        "pl": "Przekazuję rozmowę doradcy — odezwie się wkrótce.",
        "en": "I am passing you to a salesperson — they will get back to you shortly.",
    },
    "ask_contact": {
        "pl": "Jeśli chcesz, udostępnij numer telefonu przyciskiem poniżej — doradca oddzwoni.",
        "en": "If you like, share your phone number with the button below — the salesperson will call you.",
    },
    "ask_contact_typed": {
        "pl": "Jeśli chcesz, napisz tu swój numer telefonu — doradca oddzwoni.",
        "en": "If you like, type your phone number here — the salesperson will call you.",
    },
    "location_noted": {
        "pl": "Dziękuję, zapisałem lokalizację — doradca ją zobaczy.",
        "en": "Thank you, I have noted the location — the salesperson will see it.",
    },
    "contact_thanks": {
        "pl": "Dziękuję, {name}! Doradca skontaktuje się z Tobą.",
        "en": "Thank you, {name}! A salesperson will contact you.",
    },
    "text_only": {
        "pl": "Rozumiem tylko wiadomości tekstowe — napisz proszę pytanie.",
        "en": "I can only read text messages — please type your question.",
    },
    "dont_know": {
        "pl": "Tego nie wiem na pewno i nie chcę zgadywać — przekażę pytanie doradcy.",
        "en": "I do not know that for sure and will not guess — I will pass your question to a salesperson.",
    },
    "verify": {"pl": "(do potwierdzenia przez salon)", "en": "(to be confirmed by the showroom)"},
    "more_hint": {"pl": "Napisz „więcej”, a podam szczegóły.", "en": "Write “more” for details."},
    "no_more": {
        "pl": "To wszystko, co wiem na ten temat. Chcesz porozmawiać z doradcą?",
        "en": "That is all I know about it. Would you like to talk to a salesperson?",
    },
    "contact_known": {
        "pl": "Mamy już Twój kontakt — doradca się odezwie.",
        "en": "We already have your contact — a salesperson will get in touch.",
    },
    "needs": {
        "pl": "Do czego głównie będzie Ci służyć auto — codzienne dojazdy, rodzina, trasy?",
        "en": "What will the car mainly be for — commuting, family, long trips?",
    },
    "timeline": {"pl": "Kiedy planujesz zakup?", "en": "When are you planning to buy?"},
    "budget": {
        "pl": "Jaki budżet (mniej więcej) bierzesz pod uwagę?",
        "en": "Roughly what budget do you have in mind?",
    },
    "company": {"pl": "Kupujesz prywatnie czy na firmę?", "en": "Are you buying privately or for a company?"},
}


def say(key: str, language: str, **values: Any) -> str:
    text = TEXT[key].get(language) or TEXT[key]["en"]
    return text.format(**values) if values else text


@dataclass(frozen=True)
class BotReply:
    text: str
    buttons: tuple[tuple[str, str], ...] = ()  # (label, callback data)
    ask_contact: bool = False
    template: bool = False  # send the channel's approved template instead (a reply outside the 24-hour window)


@dataclass
class BotTurn:
    """What the dialog decided for one customer event."""

    replies: list[BotReply] = field(default_factory=list)
    # why: asked_for_human | high_intent | cannot_help | unsupported_claim | contact_shared
    handover: str | None = None
    archetype: str | None = None


class Dialog:
    def __init__(self, copilot: Copilot, cache: AnswerCache | None = None) -> None:
        self.copilot = copilot
        self.cache = cache  # the same FAQ question answered again without the LLM (None: every time by the LLM)
        self._fingerprint = pack_fingerprint(copilot.engine.pack)

    def greet(self, language: str) -> BotTurn:
        buttons = (
            (say("human_button", language), "human"),
            (say("contact_button", language), "contact"),
        )
        return BotTurn([BotReply(say("greeting", language), buttons)])

    def help(self, language: str) -> BotTurn:
        return BotTurn([BotReply(say("help", language))])

    def text_only(self, language: str) -> BotTurn:
        return BotTurn([BotReply(say("text_only", language))])

    def location_noted(self, language: str) -> BotTurn:
        return BotTurn([BotReply(say("location_noted", language))])

    def handover(self, language: str, reason: str, has_contact: bool) -> BotTurn:
        replies = [BotReply(say("handover", language))]
        if not has_contact:
            replies.append(BotReply(say("ask_contact", language), ask_contact=True))
        return BotTurn(replies, handover=reason)

    def offer_contact(self, language: str, has_contact: bool) -> BotTurn:
        """The customer would like to leave a contact (a button, or said in words): the way to share it."""
        if has_contact:
            return BotTurn([BotReply(say("contact_known", language))])
        return BotTurn([BotReply(say("ask_contact", language), ask_contact=True)])

    def contact_shared(self, language: str, name: str) -> BotTurn:
        return BotTurn([BotReply(say("contact_thanks", language, name=name))], handover="contact_shared")

    async def answer(self, customer_texts: list[str], collected: dict[str, Any]) -> BotTurn:
        """Answer the last customer text, grounded in the knowledge the engine retrieves for the chat so far."""
        text = customer_texts[-1]
        language = guess_language(text)
        conv = Conversation()
        for earlier in customer_texts:
            fast = await self.copilot.run(self.copilot.fast_path, conv, earlier)
        archetype = conv.state.leader
        if HUMAN.search(text):
            turn = self.handover(language, "asked_for_human", bool(collected.get("contact")))
            turn.archetype = archetype
            return turn
        if CONTACT_WISH.search(text):
            turn = self.offer_contact(language, bool(collected.get("contact")))
            turn.archetype = archetype
            return turn
        if MORE.search(text) and "more" in collected:
            turn = BotTurn([BotReply(self._next_fact(collected, language))], archetype=archetype)
            return turn
        # A chat's first question is asked of the model with nothing else of the chat: the same prompt for everyone
        # who asks it, so its answer may be reused (the FAQ cache); a later one carries the chat so far.
        grounded = await self._grounded(conv, text, language, collected, reusable=len(customer_texts) == 1)
        if grounded is None:
            turn = self.handover(language, "cannot_help", bool(collected.get("contact")))
            turn.replies.insert(0, BotReply(say("dont_know", language)))
            turn.archetype = archetype
            return turn
        reply, refused = grounded
        if refused:  # the model claimed what the facts do not say: the facts instead, and a human follows up
            turn = self.handover(language, "unsupported_claim", bool(collected.get("contact")))
            turn.replies.insert(0, BotReply(reply))
            turn.archetype = archetype
            return turn
        turn = BotTurn([BotReply(reply)], archetype=archetype)
        if fast.scores.values.get("purchase_readiness", 0) >= HIGH_INTENT:
            turn.replies.extend(self.handover(language, "high_intent", bool(collected.get("contact"))).replies)
            turn.handover = "high_intent"
            return turn
        asked = collected.setdefault("asked", [])
        question = next((q for q in QUALIFYING if q not in asked), None)
        if question is not None:
            asked.append(question)
            turn.replies.append(BotReply(say(question, language)))
        return turn

    async def _grounded(
        self, conv: Conversation, text: str, language: str, collected: dict[str, Any], *, reusable: bool
    ) -> tuple[str, bool] | None:
        """The answer from the retrieved knowledge, and whether the model's own answer was refused.

        The LLM's answer is sent only when every number and offer in it is in the retrieved facts; otherwise (and
        without an LLM, or past the conversation's LLM budget) the facts themselves are the answer. None: nothing
        known.
        """
        fast = conv.fast
        if fast is None or not fast.knowledge:
            return None
        pack = self.copilot.engine.pack
        refused = False
        slugs = [k.slug for k in fast.knowledge[:MAX_KNOWLEDGE]]  # what the prompt carries
        cache = self.cache if reusable else None
        key = answer_key(self._fingerprint, language, text, slugs)
        cached = await cache.get(key) if cache is not None else None
        if cached is not None:  # checked against these facts when it was written; costs no LLM call
            return cached, False
        within_budget = collected.get("llm_answers", 0) < LLM_ANSWERS_PER_CONVERSATION
        if self.copilot.llm.available() and within_budget:
            collected["llm_answers"] = collected.get("llm_answers", 0) + 1
            try:
                messages = self.copilot.prompts.messages("bot_answer", conv, question=text)
                parts = [delta async for _, delta in self.copilot.llm.stream_text("bot_answer", messages)]
                answer = "".join(parts).strip()
                retrieved = "\n".join(knowledge_text(pack, slugs, lang) for lang in ("pl", "en"))
                claims = unsupported_claims(answer, retrieved)
                if answer and not claims:
                    if cache is not None:
                        await cache.put(key, answer)
                    return answer, False
                if claims:
                    log.warning("bot_answer_refused_unsupported", claims=claims)
                    refused = True
            except LLMError as exc:
                log.info("bot_llm_unavailable", reason=str(exc))
        ranked = ranked_facts(self.copilot.engine, text, slugs, language)
        collected["more"] = [[r.slug, r.index] for r in ranked[1 : 1 + MORE_FACTS_KEPT]]
        return self._fact_answer(ranked[0], language, more=len(ranked) > 1), refused

    def _fact_answer(self, ref: FactRef, language: str, more: bool) -> str:
        """One fact, short, marked when the company must confirm it, with the way to ask for more."""
        fact = self.copilot.engine.pack.knowledge[ref.slug].facts[ref.index]
        marks = [say("verify", language)] if fact.verify else []
        if more:
            marks.append(say("more_hint", language))
        return short(fact.text.get(language), " ".join(marks))

    def _next_fact(self, collected: dict[str, Any], language: str) -> str:
        waiting = collected.get("more") or []
        if not waiting:
            return say("no_more", language)
        slug, index = waiting.pop(0)
        collected["more"] = waiting
        return self._fact_answer(FactRef(slug, index), language, more=bool(waiting))
