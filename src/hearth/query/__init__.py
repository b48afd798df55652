"""Filter trees + schema → SQL expressions (dialect-free planning; text comes from hearth.sql)."""
