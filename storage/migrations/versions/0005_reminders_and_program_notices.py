"""reminders and program notices; check-ins get deadlines, weekly repeats and series

Revision ID: 0005
Revises: 0004

The orientation and follow-up check-ins planned when a mentorship starts are
deadlines until a time is agreed (``arranged`` false); every other check-in is an
agreed time.
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import storage.types


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('program_notice',
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('sent_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_program_notice'))
    )
    op.create_table('reminder',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('checkin_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('before_minutes', sa.Integer(), nullable=False),
    sa.Column('due_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('state', sa.Enum('pending', 'sent', 'dropped', 'cancelled', name='reminderstate', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('sent_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['checkin_id'], ['checkin.id'], name=op.f('fk_reminder_checkin_id_checkin'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_reminder_person_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reminder')),
    sa.UniqueConstraint('checkin_id', 'person_id', 'before_minutes', name='uq_reminder_checkin_person_before')
    )
    with op.batch_alter_table('reminder', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reminder_checkin_id'), ['checkin_id'], unique=False)
        batch_op.create_index('ix_reminder_pending_due', ['due_at'], unique=False, sqlite_where=sa.text("state = 'pending'"), postgresql_where=sa.text("state = 'pending'"))

    with op.batch_alter_table('checkin', schema=None) as batch_op:
        batch_op.add_column(sa.Column('every_weeks', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('series_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('arranged', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.create_index('ix_checkin_scheduled_due', ['due_at'], unique=False, sqlite_where=sa.text("state = 'scheduled'"), postgresql_where=sa.text("state = 'scheduled'"))
        batch_op.create_foreign_key(batch_op.f('fk_checkin_series_id_checkin'), 'checkin', ['series_id'], ['id'])
        batch_op.create_check_constraint(op.f('ck_checkin_every_weeks_positive'), 'every_weeks IS NULL OR every_weeks > 0')
    checkin = sa.table('checkin', sa.column('arranged', sa.Boolean()), sa.column('kind', sa.String()),
                       sa.column('state', sa.String()))
    op.execute(
        checkin.update()
        .where(checkin.c.kind.in_(['orientation', 'followup']), checkin.c.state == 'scheduled')
        .values(arranged=False)
    )



def downgrade() -> None:
    with op.batch_alter_table('checkin', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_checkin_every_weeks_positive'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_checkin_series_id_checkin'), type_='foreignkey')
        batch_op.drop_index('ix_checkin_scheduled_due', sqlite_where=sa.text("state = 'scheduled'"), postgresql_where=sa.text("state = 'scheduled'"))
        batch_op.drop_column('arranged')
        batch_op.drop_column('series_id')
        batch_op.drop_column('every_weeks')

    with op.batch_alter_table('reminder', schema=None) as batch_op:
        batch_op.drop_index('ix_reminder_pending_due', sqlite_where=sa.text("state = 'pending'"), postgresql_where=sa.text("state = 'pending'"))
        batch_op.drop_index(batch_op.f('ix_reminder_checkin_id'))

    op.drop_table('reminder')
    op.drop_table('program_notice')
