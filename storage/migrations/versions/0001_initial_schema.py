"""initial schema

Revision ID: 0001
Revises: 
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import storage.types


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('bot_state',
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_bot_state'))
    )
    op.create_table('person',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('matrix_id', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('display_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('timezone', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('is_mentee', sa.Boolean(), nullable=False),
    sa.Column('is_mentor', sa.Boolean(), nullable=False),
    sa.Column('is_council', sa.Boolean(), nullable=False),
    sa.Column('capacity', sa.Integer(), server_default='0', nullable=False),
    sa.Column('away_until', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('inactive', sa.Boolean(), nullable=False),
    sa.Column('dm_room_id', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('capacity >= 0', name=op.f('ck_person_capacity_not_negative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_person'))
    )
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_person_matrix_id'), ['matrix_id'], unique=True)

    op.create_table('announcement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('audience', sa.Enum('mentors', 'mentees', 'all', name='audience', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('state', sa.Enum('draft', 'confirmed', 'cancelled', name='announcementstate', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('external_id', sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('confirmed_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('confirmed_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['author_id'], ['person.id'], name=op.f('fk_announcement_author_id_person')),
    sa.ForeignKeyConstraint(['confirmed_by_id'], ['person.id'], name=op.f('fk_announcement_confirmed_by_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_announcement')),
    sa.UniqueConstraint('external_id', name=op.f('uq_announcement_external_id'))
    )
    op.create_table('audit_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('entity', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('entity_id', sa.Integer(), nullable=False),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('from_state', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('to_state', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['person.id'], name=op.f('fk_audit_event_actor_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_event'))
    )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_event_at'), ['at'], unique=False)
        batch_op.create_index('ix_audit_event_entity', ['entity', 'entity_id'], unique=False)

    op.create_table('goal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('state', sa.Enum('open', 'done', name='goalstate', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('done_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_goal_person_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_goal'))
    )
    with op.batch_alter_table('goal', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_goal_person_id'), ['person_id'], unique=False)

    op.create_table('mentor_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mentee_id', sa.Integer(), nullable=False),
    sa.Column('topic', sa.Text(), nullable=False),
    sa.Column('state', sa.Enum('open', 'proposed', 'escalated', 'accepted', 'assigned', 'withdrawn', name='requeststate', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('proposed_to_id', sa.Integer(), nullable=True),
    sa.Column('proposed_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('previous_mentor_id', sa.Integer(), nullable=True),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('escalate_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('escalated_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['mentee_id'], ['person.id'], name=op.f('fk_mentor_request_mentee_id_person')),
    sa.ForeignKeyConstraint(['previous_mentor_id'], ['person.id'], name=op.f('fk_mentor_request_previous_mentor_id_person')),
    sa.ForeignKeyConstraint(['proposed_to_id'], ['person.id'], name=op.f('fk_mentor_request_proposed_to_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mentor_request'))
    )
    with op.batch_alter_table('mentor_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mentor_request_mentee_id'), ['mentee_id'], unique=False)
        batch_op.create_index('uq_mentor_request_one_open_per_mentee', ['mentee_id'], unique=True, sqlite_where=sa.text("state IN ('open', 'proposed', 'escalated')"), postgresql_where=sa.text("state IN ('open', 'proposed', 'escalated')"))

    op.create_table('nomination',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('nominator_id', sa.Integer(), nullable=False),
    sa.Column('nominee_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['nominator_id'], ['person.id'], name=op.f('fk_nomination_nominator_id_person')),
    sa.ForeignKeyConstraint(['nominee_id'], ['person.id'], name=op.f('fk_nomination_nominee_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_nomination'))
    )
    with op.batch_alter_table('nomination', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_nomination_nominee_id'), ['nominee_id'], unique=False)

    op.create_table('person_tag',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('language', 'skill', 'interest', name='tagkind', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('value', sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_person_tag_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_person_tag')),
    sa.UniqueConstraint('person_id', 'kind', 'value', name='uq_person_tag_person_kind_value')
    )
    with op.batch_alter_table('person_tag', schema=None) as batch_op:
        batch_op.create_index('ix_person_tag_kind_value', ['kind', 'value'], unique=False)

    op.create_table('announcement_copy',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('announcement_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.Enum('discourse', 'mentors_room', 'dm', name='copychannel', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('recipient_id', sa.Integer(), nullable=True),
    sa.Column('state', sa.Enum('pending', 'sent', 'enqueued', 'failed', name='copystate', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('sent_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('remote_id', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
    sa.Column('url', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
    sa.ForeignKeyConstraint(['announcement_id'], ['announcement.id'], name=op.f('fk_announcement_copy_announcement_id_announcement')),
    sa.ForeignKeyConstraint(['recipient_id'], ['person.id'], name=op.f('fk_announcement_copy_recipient_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_announcement_copy')),
    sa.UniqueConstraint('announcement_id', 'channel', 'recipient_id', name='uq_announcement_copy_target')
    )
    with op.batch_alter_table('announcement_copy', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_announcement_copy_announcement_id'), ['announcement_id'], unique=False)

    op.create_table('mentorship',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mentee_id', sa.Integer(), nullable=False),
    sa.Column('mentor_id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=True),
    sa.Column('state', sa.Enum('active', 'ended', name='mentorshipstate', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('started_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('commitment_ends_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ended_by_id', sa.Integer(), nullable=True),
    sa.Column('end_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['ended_by_id'], ['person.id'], name=op.f('fk_mentorship_ended_by_id_person')),
    sa.ForeignKeyConstraint(['mentee_id'], ['person.id'], name=op.f('fk_mentorship_mentee_id_person')),
    sa.ForeignKeyConstraint(['mentor_id'], ['person.id'], name=op.f('fk_mentorship_mentor_id_person')),
    sa.ForeignKeyConstraint(['request_id'], ['mentor_request.id'], name=op.f('fk_mentorship_request_id_mentor_request')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mentorship'))
    )
    with op.batch_alter_table('mentorship', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mentorship_mentee_id'), ['mentee_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_mentorship_mentor_id'), ['mentor_id'], unique=False)
        batch_op.create_index('uq_mentorship_one_active_per_mentee', ['mentee_id'], unique=True, sqlite_where=sa.text("state = 'active'"), postgresql_where=sa.text("state = 'active'"))

    op.create_table('request_decline',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('mentor_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['mentor_id'], ['person.id'], name=op.f('fk_request_decline_mentor_id_person')),
    sa.ForeignKeyConstraint(['request_id'], ['mentor_request.id'], name=op.f('fk_request_decline_request_id_mentor_request')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_request_decline'))
    )
    with op.batch_alter_table('request_decline', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_request_decline_request_id'), ['request_id'], unique=False)

    op.create_table('change_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mentorship_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('state', sa.Enum('pending', 'approved', 'refused', 'withdrawn', name='changestate', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['decided_by_id'], ['person.id'], name=op.f('fk_change_request_decided_by_id_person')),
    sa.ForeignKeyConstraint(['mentorship_id'], ['mentorship.id'], name=op.f('fk_change_request_mentorship_id_mentorship')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_change_request'))
    )
    with op.batch_alter_table('change_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_change_request_mentorship_id'), ['mentorship_id'], unique=False)
        batch_op.create_index('uq_change_request_one_pending', ['mentorship_id'], unique=True, sqlite_where=sa.text("state = 'pending'"), postgresql_where=sa.text("state = 'pending'"))

    op.create_table('checkin',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mentorship_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('orientation', 'followup', 'regular', 'midterm', 'final', name='checkinkind', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('due_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('timezone', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('every_months', sa.Integer(), nullable=True),
    sa.Column('state', sa.Enum('scheduled', 'done', 'cancelled', name='checkinstate', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('confirmed_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('done_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('every_months IS NULL OR every_months > 0', name=op.f('ck_checkin_every_months_positive')),
    sa.ForeignKeyConstraint(['created_by_id'], ['person.id'], name=op.f('fk_checkin_created_by_id_person')),
    sa.ForeignKeyConstraint(['mentorship_id'], ['mentorship.id'], name=op.f('fk_checkin_mentorship_id_mentorship')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_checkin'))
    )
    with op.batch_alter_table('checkin', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_checkin_due_at'), ['due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_checkin_mentorship_id'), ['mentorship_id'], unique=False)

    op.create_table('diary_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('mentorship_id', sa.Integer(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['mentorship_id'], ['mentorship.id'], name=op.f('fk_diary_entry_mentorship_id_mentorship')),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_diary_entry_person_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_diary_entry'))
    )
    with op.batch_alter_table('diary_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_diary_entry_person_id'), ['person_id'], unique=False)

    op.create_table('feedback',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('mentorship_id', sa.Integer(), nullable=True),
    sa.Column('round', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('strengths', sa.Text(), nullable=True),
    sa.Column('improve', sa.Text(), nullable=True),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['person.id'], name=op.f('fk_feedback_author_id_person')),
    sa.ForeignKeyConstraint(['mentorship_id'], ['mentorship.id'], name=op.f('fk_feedback_mentorship_id_mentorship')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback'))
    )
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feedback_author_id'), ['author_id'], unique=False)

    op.create_table('session_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mentorship_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('orientation', 'regular', 'midterm', 'final', name='sessionkind', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('held_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('outcome', sa.Text(), nullable=False),
    sa.Column('next_steps', sa.Text(), nullable=True),
    sa.Column('progress_start', sa.Integer(), nullable=True),
    sa.Column('progress_now', sa.Integer(), nullable=True),
    sa.Column('remarks', sa.Text(), nullable=True),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('progress_now IS NULL OR progress_now BETWEEN 1 AND 10', name=op.f('ck_session_record_progress_now_scale')),
    sa.CheckConstraint('progress_start IS NULL OR progress_start BETWEEN 1 AND 10', name=op.f('ck_session_record_progress_start_scale')),
    sa.ForeignKeyConstraint(['author_id'], ['person.id'], name=op.f('fk_session_record_author_id_person')),
    sa.ForeignKeyConstraint(['mentorship_id'], ['mentorship.id'], name=op.f('fk_session_record_mentorship_id_mentorship')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_session_record'))
    )
    with op.batch_alter_table('session_record', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_session_record_mentorship_id'), ['mentorship_id'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('session_record', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_session_record_mentorship_id'))

    op.drop_table('session_record')
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feedback_author_id'))

    op.drop_table('feedback')
    with op.batch_alter_table('diary_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_diary_entry_person_id'))

    op.drop_table('diary_entry')
    with op.batch_alter_table('checkin', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_checkin_mentorship_id'))
        batch_op.drop_index(batch_op.f('ix_checkin_due_at'))

    op.drop_table('checkin')
    with op.batch_alter_table('change_request', schema=None) as batch_op:
        batch_op.drop_index('uq_change_request_one_pending', sqlite_where=sa.text("state = 'pending'"), postgresql_where=sa.text("state = 'pending'"))
        batch_op.drop_index(batch_op.f('ix_change_request_mentorship_id'))

    op.drop_table('change_request')
    with op.batch_alter_table('request_decline', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_request_decline_request_id'))

    op.drop_table('request_decline')
    with op.batch_alter_table('mentorship', schema=None) as batch_op:
        batch_op.drop_index('uq_mentorship_one_active_per_mentee', sqlite_where=sa.text("state = 'active'"), postgresql_where=sa.text("state = 'active'"))
        batch_op.drop_index(batch_op.f('ix_mentorship_mentor_id'))
        batch_op.drop_index(batch_op.f('ix_mentorship_mentee_id'))

    op.drop_table('mentorship')
    with op.batch_alter_table('announcement_copy', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_announcement_copy_announcement_id'))

    op.drop_table('announcement_copy')
    with op.batch_alter_table('person_tag', schema=None) as batch_op:
        batch_op.drop_index('ix_person_tag_kind_value')

    op.drop_table('person_tag')
    with op.batch_alter_table('nomination', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_nomination_nominee_id'))

    op.drop_table('nomination')
    with op.batch_alter_table('mentor_request', schema=None) as batch_op:
        batch_op.drop_index('uq_mentor_request_one_open_per_mentee', sqlite_where=sa.text("state IN ('open', 'proposed', 'escalated')"), postgresql_where=sa.text("state IN ('open', 'proposed', 'escalated')"))
        batch_op.drop_index(batch_op.f('ix_mentor_request_mentee_id'))

    op.drop_table('mentor_request')
    with op.batch_alter_table('goal', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_goal_person_id'))

    op.drop_table('goal')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_event_entity')
        batch_op.drop_index(batch_op.f('ix_audit_event_at'))

    op.drop_table('audit_event')
    op.drop_table('announcement')
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_person_matrix_id'))

    op.drop_table('person')
    op.drop_table('bot_state')

