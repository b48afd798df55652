"""Authentication: JWTs and the auth flows (password hashing itself is hearth._util.passwords)."""
