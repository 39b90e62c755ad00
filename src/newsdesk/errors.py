"""The one exception tree of newsdesk.

    NewsdeskError            base; str(e) is a one-line message for a person
    ├── InputError           an input (file, URL, record) cannot be read   status 400
    │   └── FetchError       a URL could not be fetched or was refused     status 400
    ├── NotFound             an id or name that is not in the store        status 404
    ├── Conflict             an action that contradicts the store's state  status 409
    ├── Unauthorized         a write without the right token              status 401
    ├── NotInstalled         an optional part whose extra is missing       status 501
    └── StoreError           the store file is unusable or too new         status 500
        ├── StoreBusy        another writer held the store too long        status 503
        └── StoreDisconnected  the database server dropped the connection   status 500

Every class carries the HTTP status the API answers with and the exit code the CLI
returns, so views never map errors by hand.
"""

from __future__ import annotations


class NewsdeskError(Exception):
    """Base of every error newsdesk raises on purpose."""

    status = 500
    exit_code = 1


class InputError(NewsdeskError):
    status = 400
    exit_code = 2


class FetchError(InputError):
    status = 400
    exit_code = 2


class NotFound(NewsdeskError):
    status = 404
    exit_code = 3


class Conflict(NewsdeskError):
    status = 409
    exit_code = 4


class Unauthorized(NewsdeskError):
    status = 401
    exit_code = 5


class NotInstalled(NewsdeskError):
    """An optional part is missing; the message names the extra to install."""

    status = 501
    exit_code = 6

    def __init__(self, what: str, extra: str):
        super().__init__(f"{what} needs the [{extra}] extra: pip install 'newsdesk[{extra}]'")
        self.what = what
        self.extra = extra


class StoreError(NewsdeskError):
    status = 500
    exit_code = 7


class StoreBusy(StoreError):
    """Another writer held the store past the wait (`busy_timeout`); the API adds Retry-After."""

    status = 503
    exit_code = 7
    retry_after = 5


class StoreDisconnected(StoreError):
    """The database server dropped the connection; the transaction was rolled back."""
