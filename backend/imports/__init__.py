"""Broker statement imports (docs/imports.md): parsers per format, staging, preview, confirm."""
