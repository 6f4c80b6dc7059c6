"""Transports: thin layers that decode, authenticate, call the engine or the schema, and encode."""
