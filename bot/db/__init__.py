"""Tables, the engine and session factory, and query functions (which flush, never commit)."""
