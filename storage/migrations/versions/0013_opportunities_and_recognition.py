"""opportunities shared with mentees, each sent once; the council's decision on a nomination,
its public citation and the mentee's consent

Revision ID: 0013
Revises: 0012

``opportunity`` is a training, event or introduction (the same link on the same day is the
same opportunity); ``opportunity_recipient`` holds one row per mentee who was sent it, unique,
so that no retry or second share sends it twice. ``nomination`` gains its state (pending,
declined, accepted, celebrated, private, withdrawn), the council's citation, when and by whom
it was decided, when the mentee answered, and the announcement that celebrated it.
"""
from alembic import op
import sqlalchemy as sa
import storage.types


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

NOMINATION_STATES = ('pending', 'declined', 'accepted', 'celebrated', 'private', 'withdrawn')


def upgrade() -> None:
    with op.batch_alter_table('nomination') as batch:
        batch.add_column(sa.Column('state', sa.Enum(*NOMINATION_STATES, name='nominationstate', native_enum=False,
                                                    create_constraint=True, length=20),
                                   server_default='pending', nullable=False))
        batch.add_column(sa.Column('citation', sa.Text(), nullable=True))
        batch.add_column(sa.Column('decided_at', storage.types.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('decided_by_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('answered_at', storage.types.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('announcement_id', sa.Integer(), nullable=True))
        batch.create_foreign_key(batch.f('fk_nomination_decided_by_id_person'), 'person', ['decided_by_id'], ['id'])
        batch.create_foreign_key(batch.f('fk_nomination_announcement_id_announcement'), 'announcement',
                                 ['announcement_id'], ['id'])
    op.create_table(
        'opportunity',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.Enum('training', 'event', 'introduction', name='opportunitykind', native_enum=False,
                                  create_constraint=True, length=20), nullable=False),
        sa.Column('what', sa.Text(), nullable=False),
        sa.Column('url', sa.String(length=1000), nullable=False),
        sa.Column('happens_at', storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('all_day', sa.Boolean(), nullable=False),
        sa.Column('timezone', sa.String(length=64), nullable=False),
        sa.Column('expires_at', storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['author_id'], ['person.id'], name=op.f('fk_opportunity_author_id_person')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_opportunity')),
        sa.UniqueConstraint('url', 'happens_at', name='uq_opportunity_url_happens_at'),
    )
    with op.batch_alter_table('opportunity') as batch:
        batch.create_index(batch.f('ix_opportunity_author_id'), ['author_id'], unique=False)
        batch.create_index(batch.f('ix_opportunity_expires_at'), ['expires_at'], unique=False)
    op.create_table(
        'opportunity_recipient',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('opportunity_id', sa.Integer(), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.Column('shared_by_id', sa.Integer(), nullable=False),
        sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['opportunity_id'], ['opportunity.id'], ondelete='CASCADE',
                                name=op.f('fk_opportunity_recipient_opportunity_id_opportunity')),
        sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_opportunity_recipient_person_id_person')),
        sa.ForeignKeyConstraint(['shared_by_id'], ['person.id'],
                                name=op.f('fk_opportunity_recipient_shared_by_id_person')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_opportunity_recipient')),
        sa.UniqueConstraint('opportunity_id', 'person_id', name='uq_opportunity_recipient_opportunity_person'),
    )
    with op.batch_alter_table('opportunity_recipient') as batch:
        batch.create_index(batch.f('ix_opportunity_recipient_person_id'), ['person_id'], unique=False)
        batch.create_index(batch.f('ix_opportunity_recipient_created_at'), ['created_at'], unique=False)


def downgrade() -> None:
    op.drop_table('opportunity_recipient')
    op.drop_table('opportunity')
    with op.batch_alter_table('nomination') as batch:
        batch.drop_constraint('fk_nomination_announcement_id_announcement', type_='foreignkey')
        batch.drop_constraint('fk_nomination_decided_by_id_person', type_='foreignkey')
        for column in ('announcement_id', 'answered_at', 'decided_by_id', 'decided_at', 'citation', 'state'):
            batch.drop_column(column)
