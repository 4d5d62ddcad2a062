"""Switchboard's domain logic: every rule and every write lives here, never in a page."""
