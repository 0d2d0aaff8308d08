"""single coaching sessions from the coach pool; a check-in belongs to a mentorship or a coaching session

Revision ID: 0018
Revises: 0017

``coaching_session`` holds what one person asked of one coach (the skill, the time) and
how it went. A check-in now belongs to exactly one of a mentorship and a coaching session
(``ck_checkin_one_owner``), so ``checkin.mentorship_id`` may be empty. A mentor's own
monthly limit of single sessions is ``person.coaching_per_month`` (empty: the program's default).
"""
from alembic import op
import sqlalchemy as sa
import storage.types
from storage.rebuild import reminders_kept


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

ONE_OWNER = ("(CASE WHEN mentorship_id IS NULL THEN 0 ELSE 1 END) + "
             "(CASE WHEN coaching_id IS NULL THEN 0 ELSE 1 END) = 1")


def upgrade() -> None:
    op.add_column('person', sa.Column('coaching_per_month', sa.Integer(), nullable=True))
    op.create_table(
        'coaching_session',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('asker_id', sa.Integer(), nullable=False),
        sa.Column('coach_id', sa.Integer(), nullable=False),
        sa.Column('skill', sa.String(length=50), nullable=False),
        sa.Column('starts_at', storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('timezone', sa.String(length=64), nullable=False),
        sa.Column('state', sa.Enum('asked', 'accepted', 'declined', 'lapsed', 'cancelled', 'held',
                                   name='coachingstate', native_enum=False, create_constraint=True, length=20),
                  nullable=False),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('asked_at', storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('decided_at', storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column('cancelled_by_id', sa.Integer(), nullable=True),
        sa.Column('closed_at', storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint('asker_id <> coach_id', name=op.f('ck_coaching_session_not_self')),
        sa.ForeignKeyConstraint(['asker_id'], ['person.id'], name=op.f('fk_coaching_session_asker_id_person')),
        sa.ForeignKeyConstraint(['coach_id'], ['person.id'], name=op.f('fk_coaching_session_coach_id_person')),
        sa.ForeignKeyConstraint(['cancelled_by_id'], ['person.id'],
                                name=op.f('fk_coaching_session_cancelled_by_id_person')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_coaching_session')),
    )
    with op.batch_alter_table('coaching_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_coaching_session_asker_id'), ['asker_id'], unique=False)
        batch_op.create_index('ix_coaching_session_coach_starts', ['coach_id', 'starts_at'], unique=False)
        batch_op.create_index('ix_coaching_session_state_starts', ['state', 'starts_at'], unique=False)
        batch_op.create_index('uq_coaching_session_one_ask_per_coach', ['asker_id', 'coach_id'], unique=True,
                              sqlite_where=sa.text("state = 'asked'"), postgresql_where=sa.text("state = 'asked'"))
    with reminders_kept(op), op.batch_alter_table('checkin', schema=None) as batch_op:
        batch_op.alter_column('mentorship_id', existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column('coaching_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_checkin_coaching_id'), ['coaching_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_checkin_coaching_id_coaching_session'), 'coaching_session',
                                    ['coaching_id'], ['id'])
        batch_op.create_check_constraint(op.f('ck_checkin_one_owner'), ONE_OWNER)


def downgrade() -> None:
    op.execute("DELETE FROM reminder WHERE checkin_id IN (SELECT id FROM checkin WHERE coaching_id IS NOT NULL)")
    op.execute("DELETE FROM checkin WHERE coaching_id IS NOT NULL")
    with reminders_kept(op), op.batch_alter_table('checkin', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_checkin_one_owner'), type_='check')
        batch_op.drop_constraint(op.f('fk_checkin_coaching_id_coaching_session'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_checkin_coaching_id'))
        batch_op.drop_column('coaching_id')
        batch_op.alter_column('mentorship_id', existing_type=sa.Integer(), nullable=False)
    op.drop_table('coaching_session')
    with op.batch_alter_table('person') as batch:
        batch.drop_column('coaching_per_month')
