"""Switchboard's store: SQLModel tables, the engine and the Alembic migrations.

This package imports nothing else of the project.
"""
