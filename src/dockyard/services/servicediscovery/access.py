"""What Cloud Map operations act on: namespaces
(`arn:aws:servicediscovery:<region>:<account>:namespace/<id>`) and services (`service/<id>`)."""

from __future__ import annotations

from collections.abc import Iterable

from dockyard.api.access import AccessFunction, AccessRequest, Resolver, table, values


def _ids(kind: str, param: str) -> Resolver:
    def resolve(req: AccessRequest) -> Iterable[str]:
        return [
            v if v.startswith("arn:") else req.arn("servicediscovery", f"{kind}/{v}")
            for v in values(req.params, param)
        ]

    return resolve


def _arn(req: AccessRequest) -> Iterable[str]:
    return values(req.params, "ResourceARN")


NAMESPACE = _ids("namespace", "Id")
SERVICE = _ids("service", "Id")
BY_SERVICE = _ids("service", "ServiceId")
RESOURCES: dict[str, Resolver] = {
    "GetNamespace": NAMESPACE,
    "DeleteNamespace": NAMESPACE,
    "UpdateHttpNamespace": NAMESPACE,
    "UpdatePrivateDnsNamespace": NAMESPACE,
    "GetService": SERVICE,
    "DeleteService": SERVICE,
    "UpdateService": SERVICE,
    "RegisterInstance": BY_SERVICE,
    "DeregisterInstance": BY_SERVICE,
    "GetInstance": BY_SERVICE,
    "ListInstances": BY_SERVICE,
    "GetInstancesHealthStatus": BY_SERVICE,
    "UpdateInstanceCustomHealthStatus": BY_SERVICE,
    "GetServiceAttributes": _ids("service", "ServiceId"),
    "UpdateServiceAttributes": _ids("service", "ServiceId"),
    "DeleteServiceAttributes": _ids("service", "ServiceId"),
    "TagResource": _arn,
    "UntagResource": _arn,
    "ListTagsForResource": _arn,
}

ACCESS: AccessFunction = table("servicediscovery", RESOURCES)
