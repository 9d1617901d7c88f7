"""Simulators: a device fleet, scenarios, caregivers and an operator, the Twilio stand-in, the demo and a
simulated city day. Not part of the production image; installed with the `demo` extra."""
