"""Adapters that let other frameworks use ragcli's library API (each behind its own optional extra)."""
