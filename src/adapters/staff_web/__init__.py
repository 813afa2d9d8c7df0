"""The staff web: the salon's calendar pages under ``/staff/``.

An inbound adapter like a channel: it signs staff users in through the ``Accounts`` port,
draws the ``Calendar`` port's views, and owns its own sessions' cookies, CSRF tokens and
security headers. It knows nothing of the database.
"""
