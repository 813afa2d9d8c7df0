"""The booking conversation: Inbound events in, Replies out; pure, knows no channel."""
