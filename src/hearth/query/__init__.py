"""Filter trees + schema → SQL expressions (dialect-free planning; text comes from hearth.sql), and
the request context (`@request.*`) they are evaluated for."""
