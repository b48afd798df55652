"""Runtime-editable application settings, stored in the database."""
