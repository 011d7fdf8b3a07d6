"""Every kind of data the ingestion layer loads, by name (the command line's KIND, the freshness source)."""
from __future__ import annotations

from lib.ingest.kind import Kind
from lib.ingest.kinds.catalogue import CHANNELS, MODELS
from lib.ingest.kinds.leads import LEADS
from lib.ingest.kinds.progress import LEAD_PROGRESS

KINDS: dict[str, Kind] = {kind.name: kind for kind in (CHANNELS, MODELS, LEADS, LEAD_PROGRESS)}  # in the order data is loaded
