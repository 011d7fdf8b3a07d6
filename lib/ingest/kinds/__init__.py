"""Every kind of data the ingestion layer loads, by name (the command line's KIND, the freshness source)."""
from __future__ import annotations

from lib.ingest.kind import Kind
from lib.ingest.kinds.catalogue import CHANNELS, MODELS, POINTS_RULES, REWARDS

KINDS: dict[str, Kind] = {kind.name: kind for kind in (CHANNELS, MODELS, POINTS_RULES, REWARDS)}  # in the order master data is loaded
