"""From an acknowledged event to exactly one answer: the durable inbox, delivery, backpressure."""
