"""server-side sign-in sessions (the cookie holds a random token, the table its digest) and login throttling per name and
address, replacing the per-account failure count and lock of app_user

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 20:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

SESSION_END_REASONS = ("logout", "password_change", "password_reset", "deactivated", "role_change", "admin", "idle", "expired")
THROTTLE_KINDS = ("pair", "address", "account")  # lib.models


def _in(column: str, values: tuple[str, ...]) -> str:
    """column IN (values), as lib.models writes its checks."""
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


def upgrade() -> None:
    """Create user_session and login_throttle; drop app_user's failure count and lock (throttling replaces them)."""
    op.create_table(
        "user_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_digest", sa.String(length=64), nullable=True),
        sa.Column("handoff_digest", sa.String(length=64), nullable=True),
        sa.Column("handoff_expires_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.Column("ended_reason", sa.String(length=16), nullable=True),
        sa.Column("address", sa.String(length=64), nullable=True),
        sa.Column("user_agent", sa.String(length=256), nullable=True),
        sa.CheckConstraint(_in("ended_reason", SESSION_END_REASONS), name="ck_session_ended_reason"),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_digest"),
        sa.UniqueConstraint("handoff_digest"),
    )
    op.create_index("ix_session_user", "user_session", ["user_id", "ended_at"], unique=False)
    op.create_table(
        "login_throttle",
        sa.Column("key_digest", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=True),
        sa.Column("address", sa.String(length=64), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", sa.DateTime(), nullable=True),
        sa.Column("blocked_until", sa.DateTime(), nullable=True),
        sa.CheckConstraint(_in("kind", THROTTLE_KINDS), name="ck_throttle_kind"),
        sa.PrimaryKeyConstraint("key_digest"),
    )
    op.create_index("ix_throttle_blocked", "login_throttle", ["blocked_until"], unique=False)
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.drop_column("failed_attempts")
        batch_op.drop_column("locked_until")


def downgrade() -> None:
    """Put the failure count and lock back (empty) and drop the two tables."""
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("locked_until", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("failed_attempts", sa.Integer(), nullable=False, server_default="0"))
    op.drop_index("ix_throttle_blocked", table_name="login_throttle")
    op.drop_table("login_throttle")
    op.drop_index("ix_session_user", table_name="user_session")
    op.drop_table("user_session")
