"""Writes with rules: validation, one transaction per user action, an audit row, optimistic locking."""
