"""Persistence: SQL lives here and only here (SQLAlchemy 2 Core, async; SQLite or PostgreSQL)."""
