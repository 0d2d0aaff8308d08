"""mentorships keep when they last met; indexes for loads, overdue relationships, reports and the roster

Revision ID: 0006
Revises: 0005

``last_met_at`` is filled from the sessions held and the check-ins done so far.
"""
from alembic import op
import sqlalchemy as sa
import storage.types


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN (no table rebuild): the capacity triggers on mentorship stay.
    op.add_column('mentorship', sa.Column('last_met_at', storage.types.UTCDateTime(timezone=True), nullable=True))
    op.create_index('ix_mentorship_state_mentor', 'mentorship', ['state', 'mentor_id'], unique=False)
    op.create_index('ix_mentorship_state_last_met', 'mentorship', ['state', 'last_met_at', 'started_at'], unique=False)
    op.create_index('ix_session_record_held_at', 'session_record', ['held_at'], unique=False)
    op.create_index('ix_mentorship_started_at', 'mentorship', ['started_at'], unique=False)
    op.create_index('ix_mentorship_ended_at', 'mentorship', ['ended_at'], unique=False)
    op.create_index('ix_person_is_mentor', 'person', ['is_mentor', 'id'], unique=False)
    op.execute(
        "UPDATE mentorship SET last_met_at = "
        "(SELECT max(held_at) FROM session_record WHERE session_record.mentorship_id = mentorship.id)"
    )
    done = ("(SELECT max(done_at) FROM checkin WHERE checkin.mentorship_id = mentorship.id "
            "AND checkin.state = 'done')")
    op.execute(f"UPDATE mentorship SET last_met_at = {done} "
               f"WHERE {done} IS NOT NULL AND (last_met_at IS NULL OR {done} > last_met_at)")


def downgrade() -> None:
    op.drop_index('ix_person_is_mentor', table_name='person')
    op.drop_index('ix_mentorship_ended_at', table_name='mentorship')
    op.drop_index('ix_mentorship_started_at', table_name='mentorship')
    op.drop_index('ix_session_record_held_at', table_name='session_record')
    op.drop_index('ix_mentorship_state_last_met', table_name='mentorship')
    op.drop_index('ix_mentorship_state_mentor', table_name='mentorship')
    op.drop_column('mentorship', 'last_met_at')  # SQLite 3.35+ drops a column in place
