"""Fitting ragcli's models to a user's own questions."""
