"""The core: identities, memory schemas, the agent graph, extraction and the /memory operations."""
