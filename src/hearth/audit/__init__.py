"""The audit trail of record changes (docs/operations.md, "Audit trail")."""
