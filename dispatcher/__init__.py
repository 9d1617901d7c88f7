"""dispatcher component (not built yet)."""
