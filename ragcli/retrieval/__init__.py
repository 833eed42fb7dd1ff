"""Retrievers: lexical (BM25, TF-IDF) over a shared sparse scoring core."""
