"""The one way real data comes in: read (stream a file; detect its encoding; refuse a hostile one cheaply) → map (a
mapping profile, or the canonical names and their Chinese aliases; personal data hashed and masked) → check → apply (one
batch, all or nothing, rollups kept, undoable) → report. Used by the import page and `python -m lib.ingest`."""
