"""reader language: the language a person chose for the bot's messages to them

Revision ID: 0023
Revises: 0022

``person.language`` is set by ``profile language``; while it is empty the bot writes in the
first of the person's profile languages it speaks, else in the program's language.
"""
from alembic import op
import sqlalchemy as sa


revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('person', sa.Column('language', sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('person') as batch:
        batch.drop_column('language')
