"""the ingestion layer: batches with counts and source, an undo journal for every kind, mapping profiles, per-source
freshness; leads with their platform id (unique per channel), a duplicate link and a city; members with a city; ledger
rows with the loyalty system's transaction id; dealers with a closing day

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 08:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # lib.models: 64-bit ids, SQLite's rowid alias
BATCH_COUNTS = ("new_rows", "updated_rows", "duplicate_rows", "refused_rows")  # import_batch's counts


def upgrade() -> None:
    """Add the ingestion tables and columns."""
    with op.batch_alter_table("import_batch") as batch:
        batch.add_column(sa.Column("source", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("profile", sa.String(length=64), nullable=True))
        for name in BATCH_COUNTS:
            batch.add_column(sa.Column(name, sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("newest_record_at", sa.DateTime(), nullable=True))
    op.create_table(
        "import_undo",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("entity", sa.String(length=32), nullable=False),
        sa.Column("row_id", BIG_ID, nullable=False),
        sa.Column("before", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["batch_id"], ["import_batch.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_import_undo_batch", "import_undo", ["batch_id", "entity"], unique=False)
    op.create_table(
        "mapping_profile",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["updated_by"], ["app_user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "source_freshness",
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("newest_at", sa.DateTime(), nullable=False),
        sa.Column("loaded_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("source"),
    )
    with op.batch_alter_table("lead") as batch:
        batch.add_column(sa.Column("external_id", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("duplicate_of_id", BIG_ID, nullable=True))
        batch.add_column(sa.Column("city_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_lead_city", "city", ["city_id"], ["id"])
        batch.create_index("uq_lead_external", ["channel_id", "external_id"], unique=True)
    with op.batch_alter_table("member") as batch:
        batch.add_column(sa.Column("city_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_member_city", "city", ["city_id"], ["id"])
    with op.batch_alter_table("points_ledger") as batch:
        batch.add_column(sa.Column("txn_id", sa.String(length=64), nullable=True))
        batch.create_unique_constraint("uq_points_ledger_txn_id", ["txn_id"])
    with op.batch_alter_table("dealer") as batch:
        batch.add_column(sa.Column("closed_on", sa.Date(), nullable=True))
    from lib.rollups import rebuild

    rebuild(op.get_bind(), ["lead_month_mix", "lead_month_events", "lead_month_dealer"])  # created in 0006, filled here: they count
    # unique leads (duplicate_of_id IS NULL)


def downgrade() -> None:
    """Drop them again."""
    with op.batch_alter_table("dealer") as batch:
        batch.drop_column("closed_on")
    with op.batch_alter_table("points_ledger") as batch:
        batch.drop_constraint("uq_points_ledger_txn_id", type_="unique")
        batch.drop_column("txn_id")
    with op.batch_alter_table("member") as batch:
        batch.drop_constraint("fk_member_city", type_="foreignkey")
        batch.drop_column("city_id")
    with op.batch_alter_table("lead") as batch:
        batch.drop_index("uq_lead_external")
        batch.drop_constraint("fk_lead_city", type_="foreignkey")
        for name in ("city_id", "duplicate_of_id", "external_id"):
            batch.drop_column(name)
    op.drop_table("source_freshness")
    op.drop_table("mapping_profile")
    op.drop_index("ix_import_undo_batch", table_name="import_undo")
    op.drop_table("import_undo")
    with op.batch_alter_table("import_batch") as batch:
        for name in ("newest_record_at", *BATCH_COUNTS, "profile", "source"):
            batch.drop_column(name)
