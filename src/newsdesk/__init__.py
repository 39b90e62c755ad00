"""newsdesk: turn a stream of news into stories."""

from newsdesk.desk import Desk
from newsdesk.errors import (
    Conflict,
    FetchError,
    InputError,
    NewsdeskError,
    NotFound,
    NotInstalled,
    StoreError,
    Unauthorized,
)
from newsdesk.model import ARTICLE, HEADLINE, IngestReport, Item, Skip

__all__ = [
    "ARTICLE",
    "HEADLINE",
    "Conflict",
    "Desk",
    "FetchError",
    "IngestReport",
    "InputError",
    "Item",
    "NewsdeskError",
    "NotFound",
    "NotInstalled",
    "Skip",
    "StoreError",
    "Unauthorized",
]
