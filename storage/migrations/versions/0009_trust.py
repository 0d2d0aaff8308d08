"""messages that notify, deliveries held for a room that cannot be reached, courtesy
notices sent at most so often, council rights the council removed

Revision ID: 0009
Revises: 0008

``outbox_message.notify`` marks a message someone must notice (sent as ``m.text`` with
mentions, which default push rules notify); ``next_attempt_at`` holds back a message for
a room that cannot be reached now, without holding back the others. ``courtesy_notice``
remembers when a person was last told something the bot says at most once a day or an
hour (a room it does not answer in, a message it could not decrypt, a flood).
``person.council_removed_at`` keeps a council member the council removed from getting
their rights back from the configuration or the council room.
"""
from alembic import op
import sqlalchemy as sa
import storage.types


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('outbox_message', sa.Column('notify', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column('outbox_message', sa.Column('next_attempt_at', storage.types.UTCDateTime(timezone=True),
                                              nullable=True))
    op.add_column('person', sa.Column('council_removed_at', storage.types.UTCDateTime(timezone=True),
                                      nullable=True))
    op.create_table(
        'courtesy_notice',
        sa.Column('user_id', sa.String(length=255), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('sent_at', storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('user_id', 'kind', name=op.f('pk_courtesy_notice')),
    )


def downgrade() -> None:
    op.drop_table('courtesy_notice')
    with op.batch_alter_table('person') as batch:
        batch.drop_column('council_removed_at')
    with op.batch_alter_table('outbox_message') as batch:
        batch.drop_column('next_attempt_at')
        batch.drop_column('notify')
