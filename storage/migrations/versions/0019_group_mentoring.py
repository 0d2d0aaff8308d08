"""group mentoring: groups, their members and sessions; a check-in of a group; messages to a group's room

Revision ID: 0019
Revises: 0018

A check-in belongs to exactly one of a mentorship, a single coaching session and, now, a
group (``checkin.group_id``): ``ck_checkin_one_owner`` counts the three.
"""
from alembic import op
import sqlalchemy as sa
import storage.types
from storage.rebuild import reminders_kept


revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def _one_owner(*owners: str) -> str:
    return " + ".join(f"(CASE WHEN {o} IS NULL THEN 0 ELSE 1 END)" for o in owners) + " = 1"


TWO, THREE = _one_owner('mentorship_id', 'coaching_id'), _one_owner('mentorship_id', 'coaching_id', 'group_id')


def _when(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, storage.types.UTCDateTime(timezone=True), nullable=nullable)


def _session_kind() -> sa.Enum:
    return sa.Enum('orientation', 'regular', 'midterm', 'final', name='sessionkind', native_enum=False,
                   create_constraint=True, length=20)


def upgrade() -> None:
    op.create_table(
        'mentoring_group',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('mentor_id', sa.Integer(), nullable=False),
        sa.Column('state', sa.Enum('active', 'ended', name='groupstate', native_enum=False, create_constraint=True,
                                   length=20), nullable=False),
        _when('started_at'),
        _when('commitment_ends_at'),
        _when('ended_at', nullable=True),
        sa.Column('ended_by_id', sa.Integer(), nullable=True),
        sa.Column('end_reason', sa.Text(), nullable=True),
        sa.Column('room_key', sa.String(length=40), nullable=False),
        sa.Column('room_id', sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(['ended_by_id'], ['person.id'], name=op.f('fk_mentoring_group_ended_by_id_person')),
        sa.ForeignKeyConstraint(['mentor_id'], ['person.id'], name=op.f('fk_mentoring_group_mentor_id_person')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_mentoring_group')),
        sa.UniqueConstraint('room_key', name=op.f('uq_mentoring_group_room_key')),
    )
    op.create_index(op.f('ix_mentoring_group_mentor_id'), 'mentoring_group', ['mentor_id'], unique=False)
    op.create_table(
        'group_member',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('group_id', sa.Integer(), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.Column('state', sa.Enum('invited', 'member', 'declined', 'left', name='memberstate', native_enum=False,
                                   create_constraint=True, length=20), nullable=False),
        _when('invited_at'),
        _when('joined_at', nullable=True),
        _when('left_at', nullable=True),
        sa.Column('leave_reason', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['group_id'], ['mentoring_group.id'], name=op.f('fk_group_member_group_id_mentoring_group')),
        sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_group_member_person_id_person')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_group_member')),
    )
    op.create_index(op.f('ix_group_member_group_id'), 'group_member', ['group_id'], unique=False)
    op.create_index(op.f('ix_group_member_person_id'), 'group_member', ['person_id'], unique=False)
    where = sa.text("state IN ('invited', 'member')")
    op.create_index('uq_group_member_current', 'group_member', ['group_id', 'person_id'], unique=True,
                    sqlite_where=where, postgresql_where=where)
    op.create_table(
        'group_session',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('group_id', sa.Integer(), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=False),
        sa.Column('kind', _session_kind(), nullable=False),
        _when('held_at'),
        sa.Column('outcome', sa.Text(), nullable=False),
        sa.Column('next_steps', sa.Text(), nullable=True),
        _when('created_at'),
        sa.ForeignKeyConstraint(['author_id'], ['person.id'], name=op.f('fk_group_session_author_id_person')),
        sa.ForeignKeyConstraint(['group_id'], ['mentoring_group.id'], name=op.f('fk_group_session_group_id_mentoring_group')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_group_session')),
    )
    op.create_index(op.f('ix_group_session_group_id'), 'group_session', ['group_id'], unique=False)
    op.add_column('outbox_message', sa.Column('group_id', sa.Integer(), nullable=True))

    with reminders_kept(op), op.batch_alter_table('checkin') as batch:
        batch.add_column(sa.Column('group_id', sa.Integer(), nullable=True))
        batch.create_index(batch.f('ix_checkin_group_id'), ['group_id'], unique=False)
        batch.create_foreign_key(batch.f('fk_checkin_group_id_mentoring_group'), 'mentoring_group',
                                 ['group_id'], ['id'])
        batch.drop_constraint(op.f('ck_checkin_one_owner'), type_='check')
        batch.create_check_constraint(op.f('ck_checkin_one_owner'), THREE)


def downgrade() -> None:
    op.execute("DELETE FROM reminder WHERE checkin_id IN (SELECT id FROM checkin WHERE group_id IS NOT NULL)")
    op.execute("DELETE FROM checkin WHERE group_id IS NOT NULL")
    with reminders_kept(op), op.batch_alter_table('checkin') as batch:
        batch.drop_constraint(op.f('ck_checkin_one_owner'), type_='check')
        batch.create_check_constraint(op.f('ck_checkin_one_owner'), TWO)
        batch.drop_constraint(batch.f('fk_checkin_group_id_mentoring_group'), type_='foreignkey')
        batch.drop_index(batch.f('ix_checkin_group_id'))
        batch.drop_column('group_id')
    with op.batch_alter_table('outbox_message') as batch:
        batch.drop_column('group_id')
    op.drop_table('group_session')
    op.drop_table('group_member')
    op.drop_table('mentoring_group')
