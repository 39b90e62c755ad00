"""Library calls on stories (mixed into Desk)."""


class StoriesAPI:
    """Story listing, detail, explanation and editor corrections."""
