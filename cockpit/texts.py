"""The cockpit's words, in Polish and English."""

from __future__ import annotations

from typing import Any

TEXTS: dict[str, dict[str, str]] = {
    "purchase_readiness": {"pl": "Gotowość zakupu", "en": "Purchase readiness"},
    "deal_potential": {"pl": "Potencjał transakcji", "en": "Deal potential"},
    "archetype_confidence": {"pl": "Pewność archetypu", "en": "Archetype confidence"},
    "churn_risk": {"pl": "Ryzyko utraty", "en": "Churn risk"},
    "fun_drive_risk": {"pl": "Ryzyko „tylko jazda”", "en": "Test-drive-only risk"},
    "no_rules": {
        "pl": "Wartość bazowa — żadna reguła jeszcze nie zadziałała",
        "en": "Base value — no rule applied yet",
    },
    "question": {"pl": "Pytanie", "en": "Question"},
    "argument": {"pl": "Argument", "en": "Argument"},
    "objection_response": {"pl": "Odpowiedź na obiekcję", "en": "Objection response"},
    "action": {"pl": "Działanie", "en": "Action"},
    "moves_degraded": {
        "pl": "Tryb awaryjny: AI niedostępna — ruchy z podręcznika archetypu.",
        "en": "Degraded mode: AI unavailable — moves from the archetype playbook.",
    },
    "strategy_degraded": {
        "pl": "Tryb awaryjny: strategia z podręcznika archetypu.",
        "en": "Degraded mode: strategy from the archetype playbook.",
    },
    "leader_changed": {"pl": "Zmiana archetypu: teraz {name}", "en": "Archetype changed: now {name}"},
    "llm_degraded": {
        "pl": "AI działa w trybie awaryjnym — podpowiedzi z podręcznika.",
        "en": "AI is in degraded mode — suggestions from the playbook.",
    },
    "llm_off": {"pl": "AI wyłączona — podpowiedzi z podręcznika.", "en": "AI is off — suggestions from the playbook."},
    "connection_reconnecting": {
        "pl": "Brak połączenia — łączę ponownie. To, co wpiszesz, zostanie wysłane.",
        "en": "Connection lost — reconnecting. What you type will be sent.",
    },
    "connection_not_authenticated": {
        "pl": "Sesja wygasła — zaloguj się ponownie.",
        "en": "Your login expired — please log in again.",
    },
    "error_database_unavailable": {
        "pl": "Baza danych chwilowo niedostępna — ponawiam wysyłkę.",
        "en": "The database is briefly unavailable — retrying.",
    },
    "error_conflict": {"pl": "Ta sesja jest zakończona.", "en": "This session has ended."},
    "error_not_found": {"pl": "Nie znaleziono.", "en": "Not found."},
    "error_not_authenticated": {"pl": "Błędny login lub hasło.", "en": "Wrong username or password."},
    "login": {"pl": "Zaloguj", "en": "Log in"},
    "logout": {"pl": "Wyloguj", "en": "Log out"},
    "username": {"pl": "Użytkownik", "en": "Username"},
    "password": {"pl": "Hasło", "en": "Password"},
    "client": {"pl": "Klient", "en": "Client"},
    "new_client": {"pl": "Nowy klient", "en": "New client"},
    "client_name": {"pl": "Imię i nazwisko", "en": "Name"},
    "contact": {"pl": "Kontakt", "en": "Contact"},
    "create": {"pl": "Utwórz", "en": "Create"},
    "search": {"pl": "Szukaj klienta", "en": "Search clients"},
    "open": {"pl": "Otwórz", "en": "Open"},
    "archive": {"pl": "Archiwizuj", "en": "Archive"},
    "observation": {"pl": "Co mówi lub robi klient?", "en": "What does the client say or do?"},
    "send": {"pl": "Wyślij", "en": "Send"},
    "next_move": {"pl": "Następny ruch", "en": "Next move"},
    "other_moves": {"pl": "Inne propozycje", "en": "Other suggestions"},
    "waiting_moves": {
        "pl": "Propozycje pojawią się po pierwszej obserwacji.",
        "en": "Suggestions appear after the first observation.",
    },
    "analysis": {"pl": "Analiza", "en": "Analysis"},
    "archetypes": {"pl": "Archetypy", "en": "Archetypes"},
    "knowledge": {"pl": "Wiedza", "en": "Knowledge"},
    "advisor": {"pl": "Doradca", "en": "Advisor"},
    "ask_advisor": {"pl": "Zapytaj doradcę…", "en": "Ask the advisor…"},
    "strategy": {"pl": "Pełna strategia", "en": "Full strategy"},
    "summary_and_motivations": {"pl": "Podsumowanie", "en": "Summary"},
    "phrases_and_style": {"pl": "Styl i frazy", "en": "Style & phrases"},
    "script_and_next_steps": {"pl": "Scenariusz", "en": "Script"},
    "objection_handling": {"pl": "Obiekcje", "en": "Objections"},
    "qualifying_questions": {"pl": "Pytania", "en": "Questions"},
    "take_lead": {"pl": "Przejmij", "en": "Take"},
    "no_leads": {"pl": "Brak nowych leadów.", "en": "No new leads."},
    "verify": {"pl": "(do potwierdzenia)", "en": "(to be confirmed)"},
    "leads": {"pl": "Leady", "en": "Leads"},
    "pending": {"pl": "Czeka na wysłanie", "en": "Waiting to send"},
    "helpful": {"pl": "Pomocne", "en": "Helpful"},
    "not_helpful": {"pl": "Niepomocne", "en": "Not helpful"},
    "chip_price": {"pl": "Pyta o cenę", "en": "Asks about the price"},
    "chip_range": {"pl": "Martwi się o zasięg", "en": "Worried about range"},
    "chip_family": {"pl": "Przyszedł z rodziną", "en": "Came with the family"},
    "chip_company": {"pl": "Kupuje na firmę", "en": "Buying for a company"},
    "chip_think": {"pl": "Musi to przemyśleć", "en": "Needs to think about it"},
    "chip_testdrive": {"pl": "Chce jazdę próbną", "en": "Wants a test drive"},
    "chip_budget": {"pl": "Podał budżet", "en": "Gave a budget"},
    "chip_compare": {"pl": "Porównuje z konkurencją", "en": "Compares with a competitor"},
    "chip_partner": {"pl": "Musi skonsultować z partnerem", "en": "Must ask the partner"},
    "chip_discount": {"pl": "Prosi o rabat", "en": "Asks for a discount"},
    "chip_delivery": {"pl": "Pyta o termin dostawy", "en": "Asks about the delivery date"},
    "chip_order": {"pl": "Chce złożyć zamówienie", "en": "Wants to place the order"},
    "chip_financing": {"pl": "Pyta o finansowanie", "en": "Asks about financing"},
}

# Quick observations a salesperson taps most often, by conversation stage (the LLM's assessment, else readiness).
CHIPS = {
    "discovery": ("chip_family", "chip_company", "chip_range", "chip_price", "chip_testdrive", "chip_think"),
    "evaluation": ("chip_compare", "chip_budget", "chip_range", "chip_partner", "chip_testdrive", "chip_think"),
    "closing": ("chip_discount", "chip_financing", "chip_delivery", "chip_partner", "chip_order", "chip_think"),
}
STAGE_CHIPS = {"discovery": "discovery", "interest": "discovery", "evaluation": "evaluation"}
STAGE_CHIPS |= {"negotiation": "closing", "closing": "closing"}


def t(language: str, key: str, default: str | None = None, **values: Any) -> str:
    entry = TEXTS.get(key)
    if entry is None:
        return default if default is not None else key
    text = entry.get(language) or entry["en"]
    return text.format(**values) if values else text
