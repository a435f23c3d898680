"""The agent graph and what one turn reads: prompt, recall ranking, summaries, dates."""
