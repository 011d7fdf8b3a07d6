"""Every kind of data the ingestion layer loads, by name (the command line's KIND, the freshness source)."""
from __future__ import annotations

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


def kind_of_batch(batch_kind: str) -> Kind | None:
    """The kind an import_batch.kind value names (its name or a former one)."""
    return next((kind for kind in KINDS.values() if batch_kind in kind.names), None)
