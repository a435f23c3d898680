"""People behind platform accounts: person ids, linking two accounts, a workspace's people."""
