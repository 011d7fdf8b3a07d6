"""Every kind of data the ingestion layer loads, by name (the command line's KIND, the freshness source)."""
from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, Integer, MetaData, Table, Text, func

from lib.ingest.kind import Kind
from lib.ingest.kinds.catalogue import CHANNELS, MODELS, POINTS_RULES, REWARDS
from lib.ingest.kinds.channel_facts import CHANNEL_FACTS
from lib.ingest.kinds.dealers import DEALERS
from lib.ingest.kinds.leads import LEADS
from lib.ingest.kinds.members import MEMBERS
from lib.ingest.kinds.points import POINTS
from lib.ingest.kinds.progress import LEAD_PROGRESS

KINDS: dict[str, Kind] = {kind.name: kind for kind in (  # master data first, in the order a production walk loads them
    CHANNELS, MODELS, DEALERS, POINTS_RULES, REWARDS, LEADS, LEAD_PROGRESS, MEMBERS, POINTS, CHANNEL_FACTS)}
STAGING_METADATA = MetaData()  # the staging tables: an interface for ETL tools, not a part of the app's model (lib.models)


def _staging_table(kind: Kind) -> Table:
    """The table an ETL tool fills with a kind's rows (lib.ingest.staging): an id, one text column per canonical field, when
    the row was staged, and when and why a load refused it."""
    return Table(
        "stage_" + kind.name.replace("-", "_"), STAGING_METADATA,
        Column("stage_id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
        *(Column(name, Text) for name in kind.field_names),
        Column("staged_at", DateTime, nullable=False, server_default=func.current_timestamp()),
        Column("refused_at", DateTime),
        Column("refused_reason", Text),
    )


STAGING: dict[str, Table] = {name: _staging_table(kind) for name, kind in KINDS.items()}  # kind name → its staging table


def kind_of_batch(batch_kind: str) -> Kind | None:
    """The kind an import_batch.kind value names (its name or a former one)."""
    return next((kind for kind in KINDS.values() if batch_kind in kind.names), None)
