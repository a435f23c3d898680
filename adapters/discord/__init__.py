"""The Discord adapter: gateway messages and /memory slash commands, wired to the memory core."""
