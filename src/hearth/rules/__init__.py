"""Access control: whether a rule lets the requester (hearth.query.context) act (enforce)."""
