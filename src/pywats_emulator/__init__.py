"""A local WATS-compatible server for development and tests."""
