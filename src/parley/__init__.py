"""Parley: a self-hosted real-time group chat server."""

__version__ = "0.1.0"
