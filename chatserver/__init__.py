"""chatserver: a self-hosted, AppSync-compatible GraphQL server for real-time chat."""

__version__ = "0.1.0"
