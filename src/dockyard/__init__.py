"""Dockyard: a self-hosted container deployment platform that speaks the AWS APIs."""

__version__ = "0.1.0"
