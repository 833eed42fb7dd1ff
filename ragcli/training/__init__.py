"""Training ragcli's models on a user's own judged questions: `ragcli train retriever` (retriever.py,
with its data in pairs.py) and `ragcli train generator`."""
