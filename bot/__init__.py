"""Process wiring: settings, storage, the adapters and the command line."""
