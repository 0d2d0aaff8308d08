"""The audit trail: every state change, who made it and when. Never any confidential text."""

from __future__ import annotations

from datetime import datetime

from storage.models import AuditEvent, Person
from storage.session import Session


def record(
    session: Session,
    *,
    at: datetime,
    actor: Person | None,
    entity: str,
    entity_id: int,
    action: str,
    from_state: str | None = None,
    to_state: str | None = None,
) -> AuditEvent:
    event = AuditEvent(
        at=at,
        actor_id=actor.id if actor else None,
        entity=entity,
        entity_id=entity_id,
        action=action,
        from_state=from_state,
        to_state=to_state,
    )
    session.add(event)
    return event
