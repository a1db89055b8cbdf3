"""The running service's background tasks; the composition root builds and starts them."""
