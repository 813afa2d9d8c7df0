"""The composition root: configuration, database, wiring and the command line."""
