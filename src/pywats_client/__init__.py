"""pywats_client: the station service that gets test reports from watch folders to a WATS server.

``python -m pywats_client service`` runs it (``pywats-client --help`` lists every command);
:class:`ClientService` runs it from Python. Converters: :mod:`pywats_client.converters`.
"""

from .service import AsyncClientService, ClientService, ServiceError, ServiceState

__all__ = ["AsyncClientService", "ClientService", "ServiceError", "ServiceState"]
