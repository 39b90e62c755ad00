"""Outlets: who published an item, what the user knows about them, and who covers a story.

    fold.py      the folding rule: an outlet's key from a source name or a URL's domain
    stage.py     the pipeline stage that resolves each new item's outlet and source key
    files.py     reading and writing outlet files (CSV or JSONL with free attribute columns)
    coverage.py  a story's coverage by attribute value, and blindspots (pure functions)
    api.py       the Desk calls: outlets, import/export, coverage, blindspots

newsdesk ships no ratings of outlets: attributes (country, lean, owner...) come only from
the files a user imports.
"""
