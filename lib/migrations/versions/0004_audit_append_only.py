"""audit log append-only: the database refuses every UPDATE and DELETE of an audit row

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 22:00:00
"""
from alembic import op

from lib.sqlfuncs import append_only_guard, drop_append_only_guard

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the triggers (and PostgreSQL's trigger function)."""
    for statement in append_only_guard(op.get_bind().dialect.name):
        op.execute(statement)


def downgrade() -> None:
    """Remove them."""
    for statement in drop_append_only_guard(op.get_bind().dialect.name):
        op.execute(statement)
