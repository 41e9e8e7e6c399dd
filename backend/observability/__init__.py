"""Logs with request ids, and Prometheus metrics (docs/operations.md, "Observability")."""
