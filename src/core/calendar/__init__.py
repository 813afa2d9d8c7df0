"""The salon's side: what the staff web shows (views) and the ports it reaches the core by."""
