"""Evaluation: metrics (pure functions), datasets (qa.jsonl, BEIR) and the runner behind `ragcli evaluate`."""
