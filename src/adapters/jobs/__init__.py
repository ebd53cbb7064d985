"""Background jobs: a durable database-backed queue (the outbox) run in-process, or relayed to a
distributed broker (taskiq over Redis) for multi-machine deployments."""
