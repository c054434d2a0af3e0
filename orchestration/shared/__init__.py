"""Pieces shared by every orchestration domain."""
