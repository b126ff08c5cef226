"""Persistence: SQLModel tables, queries and Alembic migrations."""
