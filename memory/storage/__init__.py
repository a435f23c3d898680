"""The store behind memory: repository, sealing, namespaces, evolution, checkpoints, locks."""
