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
    "switch_held": {
        "pl": "Najpierw muszą się zapisać obserwacje tego klienta (czeka: {count}) — chwila, połączenie wraca.",
        "en": "This client's observations must be stored first ({count} waiting) — a moment, reconnecting.",
    },
    "undelivered": {"pl": "⚠ Nie doręczono do klienta: ", "en": "⚠ Not delivered to the customer: "},
    "error_conflict": {"pl": "Ta sesja jest zakończona.", "en": "This session has ended."},
    "error_bad_request": {
        "pl": "Tego tekstu nie da się zapisać (zawiera niedozwolony znak) — popraw go i wyślij ponownie.",
        "en": "This text cannot be stored (it holds a character that is not allowed) — edit it and send again.",
    },
    "error_invalid_message": {
        "pl": "Nie wysłano — wiadomość jest za długa lub niepoprawna; skróć ją i wyślij ponownie.",
        "en": "Not sent — the message is too long or not valid; shorten it and send again.",
    },
    "error_message_too_large": {
        "pl": "Nie wysłano — wiadomość jest za długa; skróć ją i wyślij ponownie.",
        "en": "Not sent — the message is too long; shorten it and send again.",
    },
    "error_rate_limited": {
        "pl": "Za dużo wiadomości naraz — chwila przerwy, zaraz wyślę ponownie.",
        "en": "Too many messages at once — pausing briefly, sending again shortly.",
    },
    "error_not_found": {"pl": "Nie znaleziono.", "en": "Not found."},
    "error_not_authenticated": {"pl": "Błędny login lub hasło.", "en": "Wrong username or password."},
    "login": {"pl": "Zaloguj", "en": "Log in"},
    "new_password_title": {
        "pl": "Administrator zresetował Twoje hasło — ustaw własne.",
        "en": "An admin reset your password — set your own.",
    },
    "current_password": {"pl": "Obecne (tymczasowe) hasło", "en": "Current (temporary) password"},
    "new_password": {"pl": "Nowe hasło (min. 8 znaków)", "en": "New password (at least 8 characters)"},
    "repeat_password": {"pl": "Powtórz nowe hasło", "en": "Repeat the new password"},
    "save_password": {"pl": "Zapisz hasło", "en": "Save password"},
    "passwords_differ": {"pl": "Hasła się różnią.", "en": "The passwords differ."},
    "password_changed": {
        "pl": "Hasło zmienione — zaloguj się nowym hasłem.",
        "en": "Password changed — log in with the new one.",
    },
    "password_error_permission_denied": {"pl": "Obecne hasło jest błędne.", "en": "The current password is not right."},
    "password_error_invalid_input": {
        "pl": "Hasło musi mieć co najmniej 8 znaków i różnić się od obecnego.",
        "en": "A password needs at least 8 characters and must differ from the current one.",
    },
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
    "restore": {"pl": "Przywróć", "en": "Restore"},
    "observation_too_long": {
        "pl": "Notatka ma {count} znaków, a mieści się {limit}. Skróć ją albo podziel na dwie — tekst jest nadal "
        "w polu.",
        "en": "The note has {count} characters; {limit} fit. Shorten it or split it in two — the text is still in "
        "the field.",
    },
    "undo": {"pl": "Cofnij", "en": "Undo"},
    "archived_note": {"pl": "Zarchiwizowano: {name}", "en": "Archived: {name}"},
    "show_archived": {"pl": "Pokaż zarchiwizowanych", "en": "Show archived"},
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
    "customer_chat": {"pl": "Czat z klientem", "en": "Chat with the customer"},
    "chat_customer": {"pl": "Klient", "en": "Customer"},
    "chat_bot": {"pl": "Bot", "en": "Bot"},
    "chat_salesperson": {"pl": "Ty", "en": "You"},
    "reply_customer": {"pl": "Odpowiedz klientowi…", "en": "Reply to the customer…"},
    "hand_back": {"pl": "Oddaj botowi", "en": "Hand back to the bot"},
    "bot_answers": {"pl": "Odpowiada bot.", "en": "The bot is answering."},
    "you_answer": {"pl": "Odpowiadasz Ty — bot milczy.", "en": "You are answering — the bot is silent."},
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
    "review": {"pl": "Przegląd", "en": "Review"},
    "review_clients": {"pl": "Klienci zespołu", "en": "Team's clients"},
    "review_feedback": {"pl": "Oceny", "en": "Feedback"},
    "review_proposals": {"pl": "Propozycje wiedzy", "en": "Knowledge proposals"},
    "review_pack": {"pl": "Archetypy, wiedza, reguły", "en": "Archetypes, knowledge, rules"},
    "salesperson": {"pl": "Handlowiec", "en": "Salesperson"},
    "archetype": {"pl": "Archetyp", "en": "Archetype"},
    "indicator": {"pl": "Wskaźnik", "en": "Indicator"},
    "at_least": {"pl": "co najmniej", "en": "at least"},
    "active_in": {"pl": "Aktywni", "en": "Active"},
    "any": {"pl": "wszyscy", "en": "any"},
    "days_7": {"pl": "7 dni", "en": "7 days"},
    "days_30": {"pl": "30 dni", "en": "30 days"},
    "days_90": {"pl": "90 dni", "en": "90 days"},
    "active": {"pl": "aktywni", "en": "active"},
    "archived": {"pl": "zarchiwizowany", "en": "archived"},
    "archived_only": {"pl": "zarchiwizowani", "en": "archived"},
    "timeline": {"pl": "Przebieg rozmowy", "en": "Timeline"},
    "close": {"pl": "Zamknij", "en": "Close"},
    "no_session": {"pl": "Ten klient nie ma jeszcze rozmów.", "en": "This client has no sessions yet."},
    "no_clients": {"pl": "Brak klientów dla tych filtrów.", "en": "No client files match these filters."},
    "by_archetype": {"pl": "Według archetypu", "en": "By archetype"},
    "by_kind": {"pl": "Według rodzaju podpowiedzi", "en": "By suggestion kind"},
    "by_rule": {"pl": "Według reguły", "en": "By rule"},
    "by_day": {"pl": "Według dnia", "en": "By day"},
    "share_up": {"pl": "% pomocnych", "en": "% helpful"},
    "no_feedback": {"pl": "Jeszcze nikt nie ocenił podpowiedzi.", "en": "No suggestion has been rated yet."},
    "approve": {"pl": "Zatwierdź", "en": "Approve"},
    "reject": {"pl": "Odrzuć", "en": "Reject"},
    "no_proposals": {
        "pl": "Brak propozycji: pojawią się, gdy podpowiedzi zbiorą dobre oceny.",
        "en": "No proposals: they appear when suggestions are rated helpful.",
    },
    "approved_draft": {
        "pl": "Zatwierdzone. Dodaj ten wpis do strategii modułu w edytorze wiedzy:",
        "en": "Approved. Add this entry to the module's strategies in the knowledge editor:",
    },
    "export": {"pl": "Eksport do douczania (JSONL)", "en": "Export for fine-tuning (JSONL)"},
    "save": {"pl": "Sprawdź i zapisz", "en": "Check and save"},
    "save_anyway": {"pl": "Zapisz mimo to", "en": "Save anyway"},
    "pack_saved_now": {"pl": "Zapisano — działa od teraz.", "en": "Saved — in effect now."},
    "pack_saved_restart": {
        "pl": "Zapisano — zadziała po restarcie serwera.",
        "en": "Saved — takes effect after the server restarts.",
    },
    "pack_version_loaded": {
        "pl": "Wczytano wersję z {saved} — zapisz, aby ją przywrócić.",
        "en": "Loaded the version of {saved} — save to restore it.",
    },
    "earlier_versions": {"pl": "Wcześniejsze wersje", "en": "Earlier versions"},
    "load": {"pl": "Wczytaj", "en": "Load"},
    "pack_unchanged": {"pl": "Bez zmian — nic nie zapisano.", "en": "Unchanged — nothing saved."},
    "pack_near_duplicate": {
        "pl": "Nie zapisano: moduł jest prawie taki sam jak {similar}. Połącz je albo zapisz mimo to.",
        "en": "Not saved: this module nearly duplicates {similar}. Merge them, or save anyway.",
    },
    "rules": {"pl": "Reguły", "en": "Rules"},
    "review_audit": {"pl": "Dziennik zmian", "en": "Audit log"},
    "archive_state": {"pl": "Archiwum", "en": "Archive"},
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
