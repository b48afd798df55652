"""Collections as data: the model, its validation, table migrations and the cached repository."""
