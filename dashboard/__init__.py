"""dashboard component (not built yet)."""
