"""What every channel adapter shares: reading platform input, commands, cutting text."""
