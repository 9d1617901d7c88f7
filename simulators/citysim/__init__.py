"""The simulated city day behind ``eldercare simulate day``: demand, caregivers and operators as a discrete-event
simulation, the dispatcher's own code deciding, and a report against the published service targets."""
