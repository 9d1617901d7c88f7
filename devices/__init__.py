"""devices component (not built yet)."""
