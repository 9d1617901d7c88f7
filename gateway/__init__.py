"""gateway component (not built yet)."""
