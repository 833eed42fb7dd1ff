"""Generators: a question and its retrieved passages → an answer that cites them (one module per backend)."""
