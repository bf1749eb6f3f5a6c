"""Resumable upload sessions: one file of any size sent in parts, verified, then stored as a blob."""
