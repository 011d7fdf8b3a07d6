"""The one way real data comes in: read (stream a file; detect its encoding; refuse a hostile one cheaply) → map → check →
apply → report. So far the read step, used by the import of daily channel facts (lib/services/imports.py)."""
