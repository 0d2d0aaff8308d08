"""guided conversations: the question a person is asked in their DM and their answers so far

Revision ID: 0021
Revises: 0019

``conversation`` has one row per person at most (``person_id`` is unique): a guided ``request``
or a new mentor's set-up, the question waiting for an answer, and the answers given, which are
applied only when the person confirms. A row not answered for a day is forgotten.
"""
from alembic import op
import sqlalchemy as sa
import storage.types


revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'conversation',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.Enum('request', 'mentor_setup', name='conversationkind', native_enum=False,
                                  create_constraint=True, length=20), nullable=False),
        sa.Column('pending', sa.String(length=20), nullable=False),
        sa.Column('answers', sa.Text(), nullable=False),
        sa.Column('started_at', storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('updated_at', storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('expires_at', storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_conversation_person_id_person')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_conversation')),
        sa.UniqueConstraint('person_id', name=op.f('uq_conversation_person_id')),
    )
    op.create_index(op.f('ix_conversation_expires_at'), 'conversation', ['expires_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_conversation_expires_at'), table_name='conversation')
    op.drop_table('conversation')
