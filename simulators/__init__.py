"""simulators component (not built yet)."""
