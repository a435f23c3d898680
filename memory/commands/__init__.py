"""The /memory verbs: their one spec, the operations behind them, their neutral results."""
