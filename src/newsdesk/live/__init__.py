"""What keeps a desk fed and tells people: feed polling, watches and alerts, export and import."""
