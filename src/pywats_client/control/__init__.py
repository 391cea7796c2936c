"""The local control API of a running service, its Python client, and the health and metrics endpoints."""
