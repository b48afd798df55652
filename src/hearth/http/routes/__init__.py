"""One module per endpoint area; each exports `routes`."""
