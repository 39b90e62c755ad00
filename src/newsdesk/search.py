"""Full-text and semantic search (mixed into Desk)."""


class SearchAPI:
    """Search over items."""
