"""Real-time: broker (moves publications between processes), hub (indexes local subscribers), engine (joins them)."""
