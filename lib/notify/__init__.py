"""Messages that reach people: digests and threshold alerts by e-mail and work-chat robots, each delivery recorded once
(`python -m lib.notify run`)."""
