"""The link-local address at which containers reach their agent's credentials endpoint.

AWS SDKs fetch container credentials over plain HTTP only from a loopback address or from
169.254.170.2 (botocore's `ContainerMetadataFetcher`). Real ECS redirects 169.254.170.2 to
its agent with iptables; here the host holds the address itself, on `lo` (a /32), so a
container in a task namespace on `dockyard0` or on a Docker network, whose default route
leads to the host, reaches it, and each agent listens there on a port of its own. Host
network tasks use loopback instead. Blocking (pyroute2): call from a worker thread.
"""

from __future__ import annotations

import contextlib
import logging
import os

log = logging.getLogger(__name__)

ADDRESS = "169.254.170.2"
INTERFACE = "lo"


def present() -> bool:
    """Whether the host already holds the address."""
    from pyroute2 import IPRoute

    with IPRoute() as ipr:
        return any(a.get_attr("IFA_ADDRESS") == ADDRESS for a in ipr.get_addr(family=2))


def ensure() -> str | None:
    """Put the address on the host (once; several agents may race), returning it, or None
    when it cannot be had (not root, no network admin rights)."""
    try:
        if present():
            return ADDRESS
        if os.geteuid() != 0:
            log.warning("cannot add %s for task credentials: not root", ADDRESS)
            return None
        from pyroute2 import IPRoute

        with IPRoute() as ipr:
            index = ipr.link_lookup(ifname=INTERFACE)[0]
            with contextlib.suppress(Exception):  # another agent may have added it meanwhile
                ipr.addr("add", index=index, address=ADDRESS, prefixlen=32)
        if present():
            log.info("task credentials endpoint address %s added to %s", ADDRESS, INTERFACE)
            return ADDRESS
    except Exception as exc:
        log.warning("cannot add %s for task credentials: %s", ADDRESS, exc)
    return None
