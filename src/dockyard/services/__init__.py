"""One package per AWS service."""
