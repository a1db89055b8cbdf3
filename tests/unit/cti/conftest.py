"""Fixtures for the CTI unit tests live in cti_harness (importable by name from the tests)."""

from cti_harness import cti, make_cti

__all__ = ["cti", "make_cti"]
