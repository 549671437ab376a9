"""The Reflex cockpit a salesperson uses live (placeholder until the cockpit issue)."""
