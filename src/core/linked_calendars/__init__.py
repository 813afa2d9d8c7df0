"""Each staff member's own calendar outside salonbot (Google Calendar), kept in step."""
