"""What the bot can do: the command framework and one router per domain.

Nothing here imports a transport (matrix-nio, the forum client) or the scheduler.
"""

from __future__ import annotations

from commands.framework import Registry


def build_registry() -> Registry:
    """Every command of the bot, in the order help lists them."""
    from commands import (agreements, announcements, checkins, coaching, conversations, council, groups, help, mentoring,
                          opportunities, privacy, profile, recognition, records, roster)

    registry = Registry()
    for router in (help.router, profile.router, mentoring.mentee_router, mentoring.mentor_router, checkins.router,
                   coaching.router, agreements.router, records.router, groups.router, opportunities.router,
                   roster.router, council.router, recognition.router, announcements.router, privacy.router):
        registry.include(router)
    registry.conversation = conversations.LISTENER
    return registry
