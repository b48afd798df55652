"""Test helpers that are not tests: a real SMTP server process and its pytest fixture."""
