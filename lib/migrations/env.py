"""Alembic environment: migrates the connection lib.db hands over, or DATABASE_URL from the CLI."""
from alembic import context
from sqlalchemy import Connection

from lib.db import get_engine
from lib.ingest.kinds import STAGING_METADATA
from lib.models import Base


def run_migrations(connection: Connection) -> None:
    """Run the pending migrations on one connection (batch mode so SQLite can alter tables)."""
    context.configure(
        connection=connection,
        target_metadata=[Base.metadata, STAGING_METADATA],
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    run_migrations(connection)
else:
    with get_engine().begin() as own_connection:
        run_migrations(own_connection)
