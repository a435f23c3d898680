"""Memory quality on the published yardsticks (LongMemEval, LoCoMo): `python -m bench.quality`."""
