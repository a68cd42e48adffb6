"""Micro-hosts: EC2 instances as network namespaces with their own process trees on this
machine (`LocalHosts`, the `core.hosts.HostRuntime` the EC2 service drives)."""

from __future__ import annotations

from dockyard.hosts.local import LocalHosts

__all__ = ["LocalHosts"]
