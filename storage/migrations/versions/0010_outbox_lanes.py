"""messages in two lanes: what someone waits for first, the program's bulk notices after

Revision ID: 0010
Revises: 0009

``outbox_message.lane`` is 0 for what someone waits for (a reply, a reminder, a
decision) and 1 for the program's bulk notices (overdue warnings, digests, follow-ups),
which may be thousands after a long downtime. Delivery takes the first lane before the
second, so a reminder never waits behind them; the pending index leads with the lane.
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

PENDING = sa.text('sent_at IS NULL AND NOT given_up')


def upgrade() -> None:
    with op.batch_alter_table('outbox_message') as batch:
        batch.add_column(sa.Column('lane', sa.SmallInteger(), server_default='0', nullable=False))
        batch.drop_index('ix_outbox_message_pending', sqlite_where=PENDING, postgresql_where=PENDING)
        batch.create_index('ix_outbox_message_pending', ['lane', 'id'], unique=False, sqlite_where=PENDING,
                           postgresql_where=PENDING)


def downgrade() -> None:
    with op.batch_alter_table('outbox_message') as batch:
        batch.drop_index('ix_outbox_message_pending', sqlite_where=PENDING, postgresql_where=PENDING)
        batch.create_index('ix_outbox_message_pending', ['id'], unique=False, sqlite_where=PENDING,
                           postgresql_where=PENDING)
        batch.drop_column('lane')
