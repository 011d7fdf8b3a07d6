"""Every kind of data the ingestion layer loads, by name (the command line's KIND, the freshness source)."""
from __future__ import annotations

from lib.ingest.kind import Kind
from lib.ingest.kinds.catalogue import CHANNELS, MODELS
from lib.ingest.kinds.channel_facts import CHANNEL_FACTS
from lib.ingest.kinds.dealers import DEALERS

KINDS: dict[str, Kind] = {kind.name: kind for kind in (CHANNELS, MODELS, DEALERS, CHANNEL_FACTS)}  # in the order master data is loaded


def kind_of_batch(batch_kind: str) -> Kind | None:
    """The kind an import_batch.kind value names (its name or a former one)."""
    return next((kind for kind in KINDS.values() if batch_kind in kind.names), None)
