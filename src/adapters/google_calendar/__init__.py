"""Each staff member's own Google Calendar, written through google-api-python-client
(the ``LinkedCalendars`` port)."""
