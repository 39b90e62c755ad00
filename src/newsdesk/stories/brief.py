"""Story titles, summaries, timelines, briefings and trending (mixed into Desk)."""


class BriefAPI:
    """Summaries, timelines and briefings."""
