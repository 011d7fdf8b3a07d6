"""audit log append-only against TRUNCATE too: PostgreSQL's TRUNCATE fires no row trigger, so a statement trigger refuses it
(SQLite has no TRUNCATE; MariaDB's needs the DROP privilege, see lib.sqlfuncs.truncate_guard)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 10:00:00
"""
from alembic import op

from lib.sqlfuncs import drop_truncate_guard, truncate_guard

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the TRUNCATE trigger (it calls migration 0004's trigger function)."""
    for statement in truncate_guard(op.get_bind().dialect.name):
        op.execute(statement)


def downgrade() -> None:
    """Remove it."""
    for statement in drop_truncate_guard(op.get_bind().dialect.name):
        op.execute(statement)
