"""Access control: who is asking (context) and whether a rule lets them (enforce)."""
