"""Benchmarks of the memory engine (see bench/README.md). Not part of the installed package."""
