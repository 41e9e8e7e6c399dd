"""Adapters from Python trading frameworks to an `Exporter` (imported on demand)."""
