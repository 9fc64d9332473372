"""API errors, rendered as Toxiproxy does: {"error": message, "status": code}."""

from __future__ import annotations


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
