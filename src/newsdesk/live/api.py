"""Feeds, watches, alerts, export and import (mixed into Desk)."""


class LiveAPI:
    """Feed polling, watches and alerts, export and import."""
