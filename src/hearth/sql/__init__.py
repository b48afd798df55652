"""The only place that writes SQL text. Values are always bound parameters."""
