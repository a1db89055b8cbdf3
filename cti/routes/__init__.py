"""The CTI's HTTP handlers, one module per concept; `cti.app` maps the URLs to them."""
