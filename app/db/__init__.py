"""Persistence: SQLAlchemy models and sessions. Schema changes go through alembic (migrations/)."""
