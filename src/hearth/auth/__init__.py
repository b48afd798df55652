"""Authentication: password hashing, JWTs and the auth flows."""
