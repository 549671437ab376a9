"""The Reflex cockpit a salesperson uses live, and the sales lead's review."""
