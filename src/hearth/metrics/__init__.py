"""Prometheus metrics of one Hearth instance (`GET /metrics`, docs/operations.md "Metrics")."""
