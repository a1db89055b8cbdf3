"""Benchmarks: `python -m bench` (see bench/README.md). Never timed assertions in tests."""
