"""Alembic environment: always runs on a connection handed over by storage.db."""

from alembic import context

import storage.models  # noqa: F401  (registers every table on the metadata)
from storage.models import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `mentorbot db upgrade`, which provides the connection")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
