"""Retrieval: an opened index and the retrievers that search it, one module per retriever."""
