"""Outbound campaigns: pacing of dialled lines, abandon windows, contact lists (pure parts)."""
