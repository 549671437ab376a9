"""The co-pilot: the domain pack (archetypes, knowledge, rules) and the engine that uses it."""
