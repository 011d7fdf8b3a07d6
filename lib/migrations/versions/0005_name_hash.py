"""personal data: a keyed hash of the name beside its masked form on leads and members; members found by phone hash

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 22:30:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

PEOPLE_TABLES = ("lead", "member")  # the tables holding personal data


def upgrade() -> None:
    """Add name_hash to leads and members, and the index that finds a member by phone hash."""
    for table in PEOPLE_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("name_hash", sa.String(length=64), nullable=True))
    op.create_index("ix_member_phone_hash", "member", ["phone_hash"], unique=False)


def downgrade() -> None:
    """Remove them."""
    op.drop_index("ix_member_phone_hash", table_name="member")
    for table in PEOPLE_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("name_hash")
