"""Stories: online clustering of items, labels, summaries and timelines."""
