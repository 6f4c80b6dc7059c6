"""Execution: compile (parse, validate, limits; cached), execute with AppSync error shapes, publish results."""
