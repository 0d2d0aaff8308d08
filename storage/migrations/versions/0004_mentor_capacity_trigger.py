"""a mentor never above capacity: checked by the database on every new or changed mentorship

Revision ID: 0004
Revises: 0003

The count of a mentor's active mentorships is compared with their capacity
whenever a mentorship becomes active or moves to another mentor. On PostgreSQL
the mentor's row is locked first, so two transactions cannot both take the
last place. (Lowering a capacity below the current load is allowed: mentors
keep their mentees.)

Note for later migrations: a SQLite batch operation on ``mentorship`` copies the
table and drops its triggers; such a migration must create them again.
"""
from alembic import op


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

MESSAGE = 'mentor_over_capacity'

SQLITE_CONDITION = """
    NEW.state = 'active'
    AND (SELECT count(*) FROM mentorship m WHERE m.mentor_id = NEW.mentor_id AND m.state = 'active')
        >= (SELECT capacity FROM person p WHERE p.id = NEW.mentor_id)
"""

POSTGRES_FUNCTION = f"""
CREATE FUNCTION mentorship_capacity_check() RETURNS trigger AS $$
DECLARE
    cap integer;
    load integer;
BEGIN
    IF NEW.state <> 'active' THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.state = 'active' AND OLD.mentor_id = NEW.mentor_id THEN
        RETURN NEW;
    END IF;
    SELECT capacity INTO cap FROM person WHERE id = NEW.mentor_id FOR UPDATE;
    SELECT count(*) INTO load FROM mentorship
        WHERE mentor_id = NEW.mentor_id AND state = 'active' AND id IS DISTINCT FROM NEW.id;
    IF load >= cap THEN
        RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(POSTGRES_FUNCTION)
        op.execute(
            'CREATE TRIGGER mentorship_capacity BEFORE INSERT OR UPDATE OF state, mentor_id ON mentorship '
            'FOR EACH ROW EXECUTE FUNCTION mentorship_capacity_check()'
        )
        return
    op.execute(
        f"CREATE TRIGGER mentorship_capacity_insert BEFORE INSERT ON mentorship WHEN {SQLITE_CONDITION} "
        f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
    )
    op.execute(
        "CREATE TRIGGER mentorship_capacity_update BEFORE UPDATE OF state, mentor_id ON mentorship "
        f"WHEN NOT (OLD.state = 'active' AND OLD.mentor_id = NEW.mentor_id) AND {SQLITE_CONDITION} "
        f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP TRIGGER IF EXISTS mentorship_capacity ON mentorship')
        op.execute('DROP FUNCTION IF EXISTS mentorship_capacity_check()')
        return
    op.execute('DROP TRIGGER IF EXISTS mentorship_capacity_insert')
    op.execute('DROP TRIGGER IF EXISTS mentorship_capacity_update')
