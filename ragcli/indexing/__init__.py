"""Indexing: plan what changed, read and split, count terms, build and write the payloads."""
