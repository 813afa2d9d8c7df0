"""Pure domain model: the catalog, schedules, availability and booking rules.

Only the standard library is imported here, so every rule is unit-tested without a database.
"""
