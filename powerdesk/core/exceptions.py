"""One application error type: services raise it, every interface renders it the same way."""

from __future__ import annotations


class ApplicationError(Exception):
    """A refusal the caller can act on.

    ``code`` is machine-readable (API clients branch on it); ``message`` is for people and is
    already translated (Chinese by default); ``field`` names the offending input when there is one.
    """

    status = 400

    def __init__(
        self,
        code: str,
        message: str,
        *,
        field: str | None = None,
        status: int | None = None,
        extra: dict | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = str(message)
        self.field = field
        self.extra = extra or {}
        if status is not None:
            self.status = status

    def as_dict(self) -> dict:
        body = {"code": self.code, "message": self.message}
        if self.field:
            body["field"] = self.field
        if self.extra:
            body.update(self.extra)
        return body


class NotFound(ApplicationError):
    status = 404


class PermissionDenied(ApplicationError):
    status = 403


class RateLimited(ApplicationError):
    status = 429
