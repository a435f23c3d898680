"""Erasure: the log of what was forgotten, and taking it out of conversations and learning."""
