"""Connectors: the catalog of declarative templates and the configured connectors."""
