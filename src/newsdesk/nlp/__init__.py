"""Enrichment: language, entities with canonical names and roles, dates, figures, keyphrases."""
