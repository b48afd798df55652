"""The only layer that knows HTTP: parse requests, call services, write PocketBase's JSON."""
