"""each mentor's count of active mentees, kept on their row by the database

Revision ID: 0008
Revises: 0007

``person.active_mentees`` is maintained by triggers on ``mentorship`` (a mentorship
that starts, ends, moves to another mentor or is deleted), so that matching reads one
narrow row per mentor instead of counting every mentorship of the program, and the
program's active mentorships are a sum over the mentors who have some (a partial index).
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

POSTGRES_FUNCTION = """
CREATE FUNCTION mentorship_load_count() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.state = 'active' THEN
        UPDATE person SET active_mentees = active_mentees - 1 WHERE id = OLD.mentor_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.state = 'active' THEN
        UPDATE person SET active_mentees = active_mentees + 1 WHERE id = NEW.mentor_id;
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql
"""

SQLITE_TRIGGERS = (
    "CREATE TRIGGER mentorship_load_insert AFTER INSERT ON mentorship WHEN NEW.state = 'active' "
    "BEGIN UPDATE person SET active_mentees = active_mentees + 1 WHERE id = NEW.mentor_id; END",
    "CREATE TRIGGER mentorship_load_update AFTER UPDATE OF state, mentor_id ON mentorship "
    "WHEN OLD.state = 'active' OR NEW.state = 'active' BEGIN "
    "UPDATE person SET active_mentees = active_mentees - 1 WHERE id = OLD.mentor_id AND OLD.state = 'active'; "
    "UPDATE person SET active_mentees = active_mentees + 1 WHERE id = NEW.mentor_id AND NEW.state = 'active'; "
    "END",
    "CREATE TRIGGER mentorship_load_delete AFTER DELETE ON mentorship WHEN OLD.state = 'active' "
    "BEGIN UPDATE person SET active_mentees = active_mentees - 1 WHERE id = OLD.mentor_id; END",
)


def upgrade() -> None:
    op.add_column('person', sa.Column('active_mentees', sa.Integer(), server_default='0', nullable=False))
    op.execute("UPDATE person SET active_mentees = (SELECT count(*) FROM mentorship m "
               "WHERE m.mentor_id = person.id AND m.state = 'active')")
    op.create_index('ix_person_active_mentees', 'person', ['active_mentees'], unique=False,
                    sqlite_where=sa.text('active_mentees > 0'), postgresql_where=sa.text('active_mentees > 0'))
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(POSTGRES_FUNCTION)
        op.execute('CREATE TRIGGER mentorship_load AFTER INSERT OR UPDATE OF state, mentor_id OR DELETE '
                   'ON mentorship FOR EACH ROW EXECUTE FUNCTION mentorship_load_count()')
        return
    for trigger in SQLITE_TRIGGERS:
        op.execute(trigger)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP TRIGGER IF EXISTS mentorship_load ON mentorship')
        op.execute('DROP FUNCTION IF EXISTS mentorship_load_count()')
    else:
        for name in ('insert', 'update', 'delete'):
            op.execute(f'DROP TRIGGER IF EXISTS mentorship_load_{name}')
    op.drop_index('ix_person_active_mentees', table_name='person')
    with op.batch_alter_table('person') as batch:
        batch.drop_column('active_mentees')
