"""The staff side as a JSON API under ``/api/v1``: the calendar's reads and the front
desk's actions, for a signed-in staff user holding a bearer token."""
