"""cohort proposals: the council's assignment of all open requests at once, kept until confirmed

Revision ID: 0017
Revises: 0013
"""
from alembic import op
import sqlalchemy as sa
import storage.types


revision = '0017'
down_revision = '0013'
branch_labels = None
depends_on = None

ONE_PROPOSED = "state = 'proposed'"


def upgrade() -> None:
    op.create_table(
        'cohort_proposal',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('state', sa.Enum('proposed', 'confirmed', 'cancelled', 'replaced', name='cohortstate',
                                   native_enum=False, create_constraint=True, length=20), nullable=False),
        sa.Column('made_by_id', sa.Integer(), nullable=False),
        sa.Column('made_at', storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('requests', sa.Integer(), nullable=False),
        sa.Column('places', sa.Integer(), nullable=False),
        sa.Column('total_fit', sa.Float(), nullable=False),
        sa.Column('unmatched', sa.Integer(), nullable=False),
        sa.Column('one_at_a_time_fit', sa.Float(), nullable=False),
        sa.Column('one_at_a_time_unmatched', sa.Integer(), nullable=False),
        sa.Column('decided_by_id', sa.Integer(), nullable=True),
        sa.Column('decided_at', storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['made_by_id'], ['person.id'], name=op.f('fk_cohort_proposal_made_by_id_person')),
        sa.ForeignKeyConstraint(['decided_by_id'], ['person.id'],
                                name=op.f('fk_cohort_proposal_decided_by_id_person')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_cohort_proposal')),
    )
    op.create_index('uq_cohort_proposal_one_proposed', 'cohort_proposal', ['state'], unique=True,
                    sqlite_where=sa.text(ONE_PROPOSED), postgresql_where=sa.text(ONE_PROPOSED))
    op.create_table(
        'cohort_pair',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('cohort_id', sa.Integer(), nullable=False),
        sa.Column('request_id', sa.Integer(), nullable=False),
        sa.Column('mentor_id', sa.Integer(), nullable=True),
        sa.Column('fit', sa.Float(), nullable=True),
        sa.Column('load', sa.Integer(), nullable=True),
        sa.Column('outcome', sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(['cohort_id'], ['cohort_proposal.id'],
                                name=op.f('fk_cohort_pair_cohort_id_cohort_proposal')),
        sa.ForeignKeyConstraint(['request_id'], ['mentor_request.id'],
                                name=op.f('fk_cohort_pair_request_id_mentor_request')),
        sa.ForeignKeyConstraint(['mentor_id'], ['person.id'], name=op.f('fk_cohort_pair_mentor_id_person')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_cohort_pair')),
    )
    op.create_index(op.f('ix_cohort_pair_cohort_id'), 'cohort_pair', ['cohort_id'], unique=False)
    op.create_index(op.f('ix_cohort_pair_request_id'), 'cohort_pair', ['request_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_cohort_pair_request_id'), table_name='cohort_pair')
    op.drop_index(op.f('ix_cohort_pair_cohort_id'), table_name='cohort_pair')
    op.drop_table('cohort_pair')
    op.drop_index('uq_cohort_proposal_one_proposed', table_name='cohort_proposal')
    op.drop_table('cohort_proposal')
