"""Learning: when to learn, extraction with trustcall, writes and their change sets."""
