"""Platform adapters: normalize platform payloads into the core's types and render results back."""
