"""The simulators' tests reuse the dispatcher's fixtures: a town, a clock, and the wired-up harness."""

from tests.dispatcher.conftest import clock, config, conn, harness, town

__all__ = ["clock", "config", "conn", "harness", "town"]
