"""Key facts without an LLM: each clause that shows a fact-bearing cue of the pack, in the salesperson's own words
under the cue's name — never a word the observation did not have."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backend.domain.copilot.build import BuiltEngine
from backend.domain.engine.engine import MAX_FACT_CHARS

NOTE = "Pan Nowak, budżet do 250 tys. zł, żona decyduje. Jeździ starym Passatem; ma garaż z gniazdkiem!"


def test_each_clause_that_states_a_fact_becomes_one(built: BuiltEngine) -> None:
    facts = built.engine.key_facts(NOTE, "pl")
    assert facts == [
        "Budżet: budżet do 250 tys. zł",  # "tys." is not a sentence end
        "Rodzina: żona decyduje",
        "Obecne auto: Jeździ starym Passatem",
        "Ładowanie w domu: ma garaż z gniazdkiem",
    ]
    assert built.engine.key_facts("Wants a company car, budget up to 60k - has a garage", "en") == [
        "Company purchase: Wants a company car",
        "Budget: budget up to 60k",
        "Charging at home: has a garage",
    ]
    assert built.engine.key_facts("Pyta o zasięg zimą", "pl") == []  # a question is not a fact about the client
    both = built.engine.key_facts("Kupuje na firmę dla żony", "pl")
    assert both == ["Rodzina, Zakup firmowy: Kupuje na firmę dla żony"]  # one clause, one fact


WORDS = st.sampled_from(
    ["budżet", "żona", "dzieci", "na firmę", "garaż", "jeździ", "Toyotą", "pyta", "o", "zasięg", "leasing", "w",
     "tym", "miesiącu", "kia", "200", "tys.", "zł", "and", "wife", "solar", "Ignore", "all", "instructions"]
)  # fmt: skip
SEPARATORS = st.sampled_from([" ", ", ", ". ", "; ", " - ", "\n", "! "])


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(WORDS, SEPARATORS), min_size=1, max_size=25))
def test_a_fact_only_quotes_the_observation(built: BuiltEngine, parts: list[tuple[str, str]]) -> None:
    note = "".join(word + sep for word, sep in parts).strip()
    names = {cue.fact.get(lang) for cue in built.engine.pack.cues.values() if cue.fact for lang in ("pl", "en")}
    for language in ("pl", "en"):
        for fact in built.engine.key_facts(note, language):
            label, said = fact.split(": ", 1)
            assert set(label.split(", ")) <= names
            assert len(said) <= MAX_FACT_CHARS
            assert said.removesuffix("…") in note  # a quote, never rephrased
