"""Outbound webhooks: record changes POSTed to HTTP endpoints, signed per Standard Webhooks."""
