"""The salon's business: booking rules, availability and use cases; knows no channel."""
