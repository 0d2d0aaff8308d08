"""Persistence for mentorbot: SQLModel tables, the async engine and migrations.

Nothing here knows about Matrix, Discourse or the scheduler.
"""
