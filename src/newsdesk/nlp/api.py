"""Library calls on entities (mixed into Desk)."""


class EntitiesAPI:
    """Entity listing and detail."""
