"""The station service (see :mod:`.service` for the lifecycle, :mod:`.intake` and :mod:`.uploader` for the
path of a report)."""

from .service import AsyncClientService, ServiceError, ServiceState
from .sync import ClientService

__all__ = ["AsyncClientService", "ClientService", "ServiceError", "ServiceState"]
