"""no self-mentoring, and one shared copy of an announcement per channel

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('mentorship', schema=None) as batch_op:
        batch_op.create_check_constraint(op.f('ck_mentorship_not_self'), 'mentor_id <> mentee_id')
    with op.batch_alter_table('mentor_request', schema=None) as batch_op:
        batch_op.create_check_constraint(
            op.f('ck_mentor_request_not_proposed_to_self'), 'proposed_to_id IS NULL OR proposed_to_id <> mentee_id'
        )
    with op.batch_alter_table('announcement_copy', schema=None) as batch_op:
        batch_op.create_index(
            'uq_announcement_copy_shared_target', ['announcement_id', 'channel'], unique=True,
            sqlite_where=sa.text('recipient_id IS NULL'), postgresql_where=sa.text('recipient_id IS NULL'),
        )


def downgrade() -> None:
    with op.batch_alter_table('announcement_copy', schema=None) as batch_op:
        batch_op.drop_index('uq_announcement_copy_shared_target')
    with op.batch_alter_table('mentor_request', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_mentor_request_not_proposed_to_self'), type_='check')
    with op.batch_alter_table('mentorship', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_mentorship_not_self'), type_='check')
