"""Connections and transactions. No query building here: SQL text comes from hearth.sql."""
