"""Destek application shell: configuration, CLI, channel adapters and scheduler wiring."""
