"""Every kind of data the ingestion layer loads, by name (the command line's KIND, the freshness source)."""
from __future__ import annotations

from lib.ingest.kind import Kind
from lib.ingest.kinds.catalogue import CHANNELS, MODELS, POINTS_RULES, REWARDS
from lib.ingest.kinds.leads import LEADS
from lib.ingest.kinds.members import MEMBERS
from lib.ingest.kinds.points import POINTS
from lib.ingest.kinds.progress import LEAD_PROGRESS

KINDS: dict[str, Kind] = {kind.name: kind for kind in (  # master data first, in the order a production walk loads them
    CHANNELS, MODELS, POINTS_RULES, REWARDS, LEADS, LEAD_PROGRESS, MEMBERS, POINTS)}
