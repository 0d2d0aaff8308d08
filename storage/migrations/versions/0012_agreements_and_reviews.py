"""the agreement of a mentorship, its follow-up answers, and the goals revisited in reviews

Revision ID: 0012
Revises: 0011

``agreement`` holds what a mentor and a mentee agree on (one draft and one confirmed
version at most per mentorship); ``agreement_check`` their answers to the follow-up;
``review_goal`` where each goal stood at a mid-term or final review. A goal may now be
dropped, and belongs to the agreement of a mentorship when written into it.
``mentorship.midterm_at`` is halfway through the first commitment period (filled in for
the mentorships already there).
"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa
import storage.types


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

WHEN = storage.types.UTCDateTime(timezone=True)


def _goal_state(*values: str) -> sa.Enum:
    return sa.Enum(*values, name='goalstate', native_enum=False, create_constraint=True, length=20)


def _moment(value) -> datetime | None:
    """A stored time as read without its column type (text on SQLite), in UTC."""
    if value is None:
        return None
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _partial(name: str, where: str) -> None:
    op.create_index(name, 'agreement', ['mentorship_id'], unique=True,
                    sqlite_where=sa.text(where), postgresql_where=sa.text(where))


def upgrade() -> None:
    op.add_column('mentorship', sa.Column('midterm_at', WHEN, nullable=True))
    # Halfway between the start and the end of the commitment, for those already running.
    rows = op.get_bind().execute(sa.text(
        "SELECT id, started_at, commitment_ends_at FROM mentorship WHERE state = 'active'")).all()
    table = sa.table('mentorship', sa.column('id', sa.Integer), sa.column('midterm_at', WHEN))
    for row in rows:
        started, ends = _moment(row[1]), _moment(row[2])
        if started is not None and ends is not None:
            op.execute(table.update().where(table.c.id == row[0]).values(midterm_at=started + (ends - started) / 2))
    with op.batch_alter_table('goal') as batch:
        batch.add_column(sa.Column('mentorship_id', sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f('fk_goal_mentorship_id_mentorship'), 'mentorship', ['mentorship_id'], ['id'])
        batch.alter_column('state', existing_type=_goal_state('open', 'done'),
                           type_=_goal_state('open', 'done', 'dropped'), existing_nullable=False)
    op.create_table(
        'agreement',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('mentorship_id', sa.Integer(), nullable=False),
        sa.Column('state', sa.Enum('draft', 'confirmed', 'replaced', name='agreementstate', native_enum=False,
                                   create_constraint=True, length=20), nullable=False),
        sa.Column('goals', sa.Text(), nullable=True),
        sa.Column('mentor_part', sa.Text(), nullable=True),
        sa.Column('mentee_part', sa.Text(), nullable=True),
        sa.Column('contact', sa.Text(), nullable=True),
        sa.Column('cancelling', sa.Text(), nullable=True),
        sa.Column('urgent', sa.Text(), nullable=True),
        sa.Column('drafted_by_id', sa.Integer(), nullable=False),
        sa.Column('created_at', WHEN, nullable=False),
        sa.Column('updated_at', WHEN, nullable=False),
        sa.Column('confirmed_by_id', sa.Integer(), nullable=True),
        sa.Column('confirmed_at', WHEN, nullable=True),
        sa.ForeignKeyConstraint(['mentorship_id'], ['mentorship.id'], name=op.f('fk_agreement_mentorship_id_mentorship')),
        sa.ForeignKeyConstraint(['drafted_by_id'], ['person.id'], name=op.f('fk_agreement_drafted_by_id_person')),
        sa.ForeignKeyConstraint(['confirmed_by_id'], ['person.id'], name=op.f('fk_agreement_confirmed_by_id_person')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_agreement')),
    )
    op.create_index(op.f('ix_agreement_mentorship_id'), 'agreement', ['mentorship_id'], unique=False)
    _partial('uq_agreement_one_draft', "state = 'draft'")
    _partial('uq_agreement_one_confirmed', "state = 'confirmed'")
    op.create_table(
        'agreement_check',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('mentorship_id', sa.Integer(), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.Column('asked_at', WHEN, nullable=False),
        sa.Column('answered_at', WHEN, nullable=True),
        sa.Column('works', sa.Boolean(), nullable=True),
        sa.Column('note', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['mentorship_id'], ['mentorship.id'],
                                name=op.f('fk_agreement_check_mentorship_id_mentorship')),
        sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_agreement_check_person_id_person')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_agreement_check')),
        sa.UniqueConstraint('mentorship_id', 'person_id', name=op.f('uq_agreement_check_mentorship_id')),
    )
    op.create_index(op.f('ix_agreement_check_mentorship_id'), 'agreement_check', ['mentorship_id'], unique=False)
    op.create_table(
        'review_goal',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('session_record_id', sa.Integer(), nullable=False),
        sa.Column('goal_id', sa.Integer(), nullable=False),
        sa.Column('state', _goal_state('open', 'done', 'dropped'), nullable=False),
        sa.ForeignKeyConstraint(['session_record_id'], ['session_record.id'], ondelete='CASCADE',
                                name=op.f('fk_review_goal_session_record_id_session_record')),
        sa.ForeignKeyConstraint(['goal_id'], ['goal.id'], ondelete='CASCADE', name=op.f('fk_review_goal_goal_id_goal')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_review_goal')),
    )
    op.create_index(op.f('ix_review_goal_session_record_id'), 'review_goal', ['session_record_id'], unique=False)


def downgrade() -> None:
    op.drop_table('review_goal')
    op.drop_table('agreement_check')
    op.drop_table('agreement')
    op.execute("UPDATE goal SET state = 'open' WHERE state = 'dropped'")
    with op.batch_alter_table('goal') as batch:
        batch.alter_column('state', existing_type=_goal_state('open', 'done', 'dropped'),
                           type_=_goal_state('open', 'done'), existing_nullable=False)
        batch.drop_constraint(op.f('fk_goal_mentorship_id_mentorship'), type_='foreignkey')
        batch.drop_column('mentorship_id')
    with op.batch_alter_table('mentorship') as batch:
        batch.drop_column('midterm_at')
