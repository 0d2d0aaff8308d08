"""one-tap answers: a message may be answered with a ✅ or ❌ reaction

Revision ID: 0022
Revises: 0019

``outbox_message.answers`` says what the reactions under a message answer, until it is sent;
``answerable_message`` finds the sent message again by the room and event id a reaction names.
"""
from alembic import op
import sqlalchemy as sa
import storage.types


revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('outbox_message', sa.Column('answers', sa.Text(), server_default='', nullable=False))
    op.create_table(
        'answerable_message',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('room_id', sa.String(length=255), nullable=False),
        sa.Column('event_id', sa.String(length=255), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('yes', sa.String(length=100), nullable=False),
        sa.Column('no', sa.String(length=100), nullable=True),
        sa.Column('answerer', sa.String(length=255), nullable=False),
        sa.Column('sent_at', storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_answerable_message')),
        sa.UniqueConstraint('room_id', 'event_id', name=op.f('uq_answerable_message_room_id')),
    )
    op.create_index(op.f('ix_answerable_message_answerer'), 'answerable_message', ['answerer'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_answerable_message_answerer'), table_name='answerable_message')
    op.drop_table('answerable_message')
    with op.batch_alter_table('outbox_message') as batch:
        batch.drop_column('answers')
