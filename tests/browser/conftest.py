"""Fixtures for the browser tests live in cti_browser_support."""

from cti_browser_support import browser, live_cti

__all__ = ["browser", "live_cti"]
