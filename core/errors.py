"""Switchboard's error tree.

Every error a user can meet says, in plain language, what happened, what to do, and
whose problem it is, so a marketing-ops person knows whether to fix a setting, call the
vendor or simply wait::

    SwitchboardError
    ├── ConfigurationError      a setting of Switchboard itself (environment, key file, store)
    ├── InputError              what a person typed; carries one problem per field
    ├── PermissionDenied        the signed-in user's role does not allow the action
    ├── NotFound                the record is gone (deleted meanwhile)
    ├── AccountLocked           too many failed logins
    └── ConnectorError          a call to a vendor went wrong (raised by the gateway)
        ├── BadRequest          400: the request is malformed — fix the connector settings
        ├── AuthenticationFailed  401: wrong or expired credentials
        ├── PermissionMissing   403: the credentials lack a scope or role at the vendor
        ├── EndpointNotFound    404: wrong base URL, account or object id
        ├── RateLimited         429: the vendor asks us to slow down (retryable)
        ├── VendorUnavailable   5xx: the vendor is failing (retryable)
        ├── RequestTimedOut     no answer in time (retryable)
        ├── HostUnreachable     DNS failure or connection refused
        └── InvalidResponse     the answer is not the JSON the template expects
            └── UnexpectedShape records or cursor not where the stream's settings say
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Whose(StrEnum):
    """Whose problem an error is: it decides what the user is told to do."""

    CONFIGURATION = "configuration"
    VENDOR = "vendor"
    TRANSIENT = "passing fault"


class SwitchboardError(Exception):
    """Base of every error Switchboard shows to a person."""

    whose: Whose = Whose.CONFIGURATION
    retryable: bool = False

    def __init__(self, message: str, *, fix: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix

    def __str__(self) -> str:
        return f"{self.message} {self.fix}".strip()


class ConfigurationError(SwitchboardError):
    """A setting of Switchboard itself is wrong (environment variable, key file, store)."""


@dataclass(frozen=True)
class FieldProblem:
    """One thing wrong with one field of a form."""

    field: str
    message: str


class InputError(SwitchboardError):
    """What a person typed cannot be stored; nothing was written."""

    def __init__(self, problems: list[FieldProblem]) -> None:
        self.problems = problems
        text = "; ".join(f"{p.field}: {p.message}" for p in problems)
        super().__init__(text, fix="")

    @classmethod
    def one(cls, field: str, message: str) -> InputError:
        return cls([FieldProblem(field, message)])


class PermissionDenied(SwitchboardError):
    """The signed-in user's role does not allow this action."""


class NotFound(SwitchboardError):
    """The record no longer exists."""


class AccountLocked(SwitchboardError):
    """Too many failed logins: the account waits before it accepts a password again."""


class ConnectorError(SwitchboardError):
    """A call to a vendor's API failed; raised by the gateway only."""

    whose = Whose.VENDOR

    def __init__(self, message: str, *, fix: str = "", status: int | None = None) -> None:
        super().__init__(message, fix=fix)
        self.status = status


class BadRequest(ConnectorError):
    whose = Whose.CONFIGURATION


class AuthenticationFailed(ConnectorError):
    whose = Whose.CONFIGURATION


class PermissionMissing(ConnectorError):
    whose = Whose.CONFIGURATION


class EndpointNotFound(ConnectorError):
    whose = Whose.CONFIGURATION


class RateLimited(ConnectorError):
    whose = Whose.TRANSIENT
    retryable = True

    def __init__(
        self,
        message: str,
        *,
        fix: str = "",
        status: int | None = 429,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, fix=fix, status=status)
        self.retry_after = retry_after


class VendorUnavailable(ConnectorError):
    whose = Whose.VENDOR
    retryable = True


class RequestTimedOut(ConnectorError):
    whose = Whose.TRANSIENT
    retryable = True


class HostUnreachable(ConnectorError):
    whose = Whose.CONFIGURATION


class InvalidResponse(ConnectorError):
    """A body cut off or not JSON: usually a passing fault, retried; persistent, a wrong URL."""

    whose = Whose.VENDOR
    retryable = True


class UnexpectedShape(InvalidResponse):
    """Valid JSON, but not where the stream's settings look (record path, cursor field)."""

    whose = Whose.CONFIGURATION
    retryable = False
