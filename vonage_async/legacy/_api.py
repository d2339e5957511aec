from __future__ import annotations

from .._service import Service


class Legacy:
    def __init__(self, service: Service) -> None:
        self._service = service
