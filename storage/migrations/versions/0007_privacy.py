"""people can be forgotten; messages can carry files (exports)

Revision ID: 0007
Revises: 0006

``person.forgotten_at`` marks a person erased at their request (the row stays under a
pseudonym, for the audit trail and the counts). ``outbox_message.files`` holds the
files a message carries until it is sent, then nothing.
"""
from alembic import op
import sqlalchemy as sa
import storage.types


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('person', sa.Column('forgotten_at', storage.types.UTCDateTime(timezone=True), nullable=True))
    op.add_column('outbox_message', sa.Column('files', sa.Text(), server_default='', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('outbox_message') as batch:
        batch.drop_column('files')
    with op.batch_alter_table('person') as batch:
        batch.drop_column('forgotten_at')
