"""Capacity providers and strategies."""
