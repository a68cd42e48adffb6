"""botocore's service models: loaded lazily, cached, and indexed for routing.

The index (protocols, signing names, target prefixes) covers every service botocore ships,
read from the `metadata` object at the head of each model file, so a request for a service
Dockyard does not serve can still be identified and answered.
"""

from __future__ import annotations

import gzip
import json
import logging
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.loaders import Loader
from botocore.model import OperationModel, ServiceModel

log = logging.getLogger(__name__)

# The protocols the front door speaks, in the order it prefers them.
PROTOCOLS = ("smithy-rpc-v2-cbor", "json", "rest-json", "rest-xml", "query", "ec2")

# Models shipped inside Dockyard (services botocore no longer carries).
BUNDLED_MODELS = Path(__file__).resolve().parent.parent / "data" / "models"


@dataclass(frozen=True, slots=True)
class ServiceInfo:
    name: str  # botocore service name ("ecs", "elbv2", "cloudwatch")
    protocols: tuple[str, ...]
    signing_name: str
    endpoint_prefix: str
    target_prefix: str | None
    json_version: str
    api_version: str
    query_compatible: bool
    xml_namespace: str | None

    @classmethod
    def from_metadata(cls, name: str, meta: dict[str, Any]) -> ServiceInfo:
        protocols = tuple(meta.get("protocols") or [meta.get("protocol", "json")])
        endpoint_prefix = str(meta.get("endpointPrefix", name))
        ns = meta.get("xmlNamespace")
        if isinstance(ns, dict):
            ns = ns.get("uri")
        return cls(
            name=name,
            protocols=protocols,
            signing_name=str(meta.get("signingName") or endpoint_prefix),
            endpoint_prefix=endpoint_prefix,
            target_prefix=meta.get("targetPrefix"),
            json_version=str(meta.get("jsonVersion", "1.0")),
            api_version=str(meta.get("apiVersion", "")),
            query_compatible="awsQueryCompatible" in meta,
            xml_namespace=ns,
        )


def _read_metadata(path: str) -> dict[str, Any]:
    """The model's `metadata` object, read from the file's head when it comes first."""
    opener = gzip.open if path.endswith(".gz") else open
    decoder = json.JSONDecoder()
    for size in (8192, None):
        with opener(path, "rt", encoding="utf-8") as f:
            text = f.read() if size is None else f.read(size)
        start = text.find('"metadata"')
        if start < 0:
            continue
        brace = text.find("{", start)
        try:
            meta, _ = decoder.raw_decode(text, brace)
        except ValueError:
            continue
        if isinstance(meta, dict):
            return meta
    return {}


class ModelCatalog:
    """All service models reachable through botocore's loader (plus extra search paths)."""

    def __init__(self, extra_search_paths: Sequence[str | os.PathLike[str]] = ()) -> None:
        paths = [str(p) for p in extra_search_paths]
        if BUNDLED_MODELS.is_dir():
            paths.append(str(BUNDLED_MODELS))
        self.loader = Loader(extra_search_paths=paths)
        self._models: dict[str, ServiceModel] = {}
        self._infos: dict[str, ServiceInfo] | None = None
        self._by_signing: dict[str, tuple[ServiceInfo, ...]] = {}
        self._by_target: dict[str, ServiceInfo] = {}

    # -- models ------------------------------------------------------------------------

    def service_model(self, name: str) -> ServiceModel:
        model = self._models.get(name)
        if model is None:
            data = self.loader.load_service_model(name, "service-2")
            model = ServiceModel(data, service_name=name)
            self._models[name] = model
        return model

    def operation_model(self, service: str, operation: str) -> OperationModel:
        return self.service_model(service).operation_model(operation)

    # -- index ---------------------------------------------------------------------------

    def _model_file(self, name: str) -> str | None:
        for base in self.loader.search_paths:
            service_dir = os.path.join(base, name)
            if not os.path.isdir(service_dir):
                continue
            for version in sorted(os.listdir(service_dir), reverse=True):
                for fname in ("service-2.json", "service-2.json.gz"):
                    path = os.path.join(service_dir, version, fname)
                    if os.path.isfile(path):
                        return path
        return None

    def _build_index(self) -> dict[str, ServiceInfo]:
        infos: dict[str, ServiceInfo] = {}
        for name in self.loader.list_available_services("service-2"):
            path = self._model_file(name)
            if path is None:
                continue
            try:
                meta = _read_metadata(path)
            except (OSError, ValueError):
                log.warning("unreadable service model %s", path)
                continue
            infos[name] = ServiceInfo.from_metadata(name, meta)
        by_signing: dict[str, list[ServiceInfo]] = {}
        for info in infos.values():
            by_signing.setdefault(info.signing_name, []).append(info)
            if info.endpoint_prefix != info.signing_name:
                by_signing.setdefault(info.endpoint_prefix, []).append(info)
            if info.target_prefix and "json" in info.protocols:
                self._by_target.setdefault(info.target_prefix, info)
            if info.target_prefix and "smithy-rpc-v2-cbor" in info.protocols:
                self._by_target.setdefault(info.target_prefix, info)
        # A signing name's own service first (elasticloadbalancing: elb before elbv2 is
        # decided by the request's Version, not by order).
        self._by_signing = {
            k: tuple(sorted(v, key=lambda i: (i.signing_name != k, i.name)))
            for k, v in by_signing.items()
        }
        return infos

    @property
    def infos(self) -> dict[str, ServiceInfo]:
        if self._infos is None:
            self._infos = self._build_index()
        return self._infos

    def info(self, name: str) -> ServiceInfo | None:
        return self.infos.get(name)

    def by_signing_name(self, signing_name: str) -> tuple[ServiceInfo, ...]:
        _ = self.infos
        return self._by_signing.get(signing_name, ())

    def by_target_prefix(self, prefix: str) -> ServiceInfo | None:
        _ = self.infos
        return self._by_target.get(prefix)

    def services(self) -> Iterable[ServiceInfo]:
        return self.infos.values()
