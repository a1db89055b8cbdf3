"""Self-service for customers: the FAQ bot (CSAT surveys come later)."""
