"""Capacity providers, and how a capacity provider strategy spreads tasks over them.

FARGATE and FARGATE_SPOT are built in: they run tasks on the capacity the server manages (the
embedded agent's host). Other capacity providers are EC2 Auto Scaling groups of container
instances, reached through the `AutoScalingGroups` port (`groups`, set by the composition
root): an instance belongs to the provider when its EC2 instance is in the group, or when
its host joined with `dockyard agent --capacity-provider NAME` (the attribute
`dockyard.capacity-provider`). Managed scaling, termination protection and draining are in
`managed.py` and `controllers/capacity.py`.

A strategy places the `base` tasks on the one provider that has a base first, then the rest
in proportion to the weights (ECS's rule): each next task goes to the provider whose share
beyond its base is furthest below its weight.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from dockyard.core.autoscalinggroups import AutoScalingGroups
from dockyard.core.ids import arn, arn_resource, is_arn
from dockyard.core.scope import Scope
from dockyard.services.ecs.clusters.domain import Cluster
from dockyard.services.ecs.errors import ClientException, InvalidParameterException
from dockyard.services.ecs.state import EcsDomain
from dockyard.store.undo import put_record

log = logging.getLogger(__name__)

KIND = "ecs.capacity_provider"
FARGATE_PROVIDERS = ("FARGATE", "FARGATE_SPOT")
RESERVED_PREFIXES = ("aws", "ecs", "fargate")
MAX_STRATEGY = 20


class ProviderStatus(StrEnum):
    """A capacity provider's status."""

    ACTIVE = "ACTIVE"
    INACTIVE = "INACTIVE"


@dataclass(slots=True)
class CapacityProvider:
    arn: str
    name: str
    status: str = "ACTIVE"  # ACTIVE | INACTIVE (deleted)
    auto_scaling_group_provider: dict[str, Any] = field(default_factory=dict)
    update_status: str | None = None
    update_status_reason: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    type: str = "EC2_AUTOSCALING"
    # Managed scaling: the name of the target tracking policy ECS keeps on the group for
    # each cluster the provider is associated with (cluster ARN -> policy name).
    managed_policies: dict[str, str] = field(default_factory=dict)
    # The group's name, as the port resolved it (empty: no group could be checked).
    group_name: str = ""
    # Deleted, but what ECS put on its group (policies, the draining hook) not yet removed.
    cleanup: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class StrategyItem:
    provider: str
    weight: int = 0
    base: int = 0


def provider_arn(scope: Scope, name: str) -> str:
    return arn("ecs", scope.region, scope.account_id, f"capacity-provider/{name}")


def provider_name(ref: str) -> str:
    return arn_resource(ref).split("/", 1)[-1] if is_arn(ref) else ref


def builtin(scope: Scope, name: str) -> CapacityProvider:
    return CapacityProvider(arn=provider_arn(scope, name), name=name, type=name)


class CapacityProviders(EcsDomain):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.by_arn: dict[str, CapacityProvider] = {}
        # EC2 Auto Scaling, when the server wires it; without, a provider's group is a label.
        self.groups: AutoScalingGroups | None = None

    def load(self) -> None:
        self.by_arn = {key: CapacityProvider(**body) for key, body in self.store.load(KIND)}

    def reset(self) -> None:
        self.by_arn.clear()

    def save(self, provider: CapacityProvider) -> None:
        put_record(self.store, KIND, provider.arn, provider, lambda b: CapacityProvider(**b))
        self.by_arn[provider.arn] = provider

    def strategy_for(
        self, scope: Scope, cluster: Cluster, raw: Sequence[Mapping[str, Any]], name: str
    ) -> list[StrategyItem]:
        """A strategy given to RunTask or a service, checked against the cluster's providers."""
        items = parse_strategy(raw, name)
        for item in items:
            if self.find(scope, item.provider) is None:
                raise InvalidParameterException(
                    f"The specified capacity provider {item.provider} does not exist ({name})."
                )
            # FARGATE and FARGATE_SPOT exist in every account but, as in ECS, a strategy may
            # name them only once they are associated with the cluster (launchType FARGATE
            # needs no association).
            if item.provider not in cluster.capacity_providers:
                raise InvalidParameterException(
                    "The specified capacity provider strategy cannot contain a capacity provider "
                    f"that is not associated with the cluster: {item.provider} ({name})."
                )
        return items

    def find(self, scope: Scope, ref: str) -> CapacityProvider | None:
        """The provider `ref` (a name or ARN) names; FARGATE and FARGATE_SPOT always exist."""
        name = provider_name(ref)
        if name in FARGATE_PROVIDERS:
            return builtin(scope, name)
        found = self.by_arn.get(provider_arn(scope, name))
        return found if found is not None and found.status == ProviderStatus.ACTIVE else None

    def listed(self, scope: Scope) -> list[CapacityProvider]:
        mine = sorted(
            (
                p
                for p in self.by_arn.values()
                if p.status == ProviderStatus.ACTIVE and p.arn.startswith(provider_arn(scope, ""))
            ),
            key=lambda p: p.name,
        )
        return [builtin(scope, n) for n in FARGATE_PROVIDERS] + mine

    def waits_for_capacity(self, scope: Scope, name: str | None) -> bool:
        """Whether tasks for provider `name` that fit nowhere wait in PROVISIONING (managed
        scaling on) rather than fail."""
        if not name or name in FARGATE_PROVIDERS:
            return False
        provider = self.find(scope, name)
        if provider is None:
            return False
        scaling = provider.auto_scaling_group_provider.get("managedScaling") or {}
        return bool(scaling.get("status") == "ENABLED")

    def using_group(self, scope: Scope, group_arn: str) -> CapacityProvider | None:
        """The active provider of this account and region on the group `group_arn`."""
        for p in self.listed(scope):
            if p.auto_scaling_group_provider.get("autoScalingGroupArn") == group_arn:
                return p
        return None

    def check_new(self, scope: Scope, name: str) -> str:
        """The ARN a new provider of this name gets; refuses reserved and taken names."""
        if name.lower().startswith(RESERVED_PREFIXES) or name in FARGATE_PROVIDERS:
            raise ClientException(
                "The specified capacity provider name is invalid. Capacity provider names "
                "cannot begin with 'aws', 'ecs' or 'fargate'."
            )
        key = provider_arn(scope, name)
        current = self.by_arn.get(key)
        if current is not None and current.status == ProviderStatus.ACTIVE:
            raise ClientException(f"The specified capacity provider {name} already exists.")
        return key

    def create(
        self, scope: Scope, name: str, asg: dict[str, Any], tags: dict[str, str],
        group_name: str = "",
    ) -> CapacityProvider:  # fmt: skip
        key = self.check_new(scope, name)
        provider = CapacityProvider(
            arn=key,
            name=name,
            auto_scaling_group_provider=asg,
            update_status=None,
            tags=dict(tags),
            group_name=group_name,
        )
        self.save(provider)
        log.info("capacity provider %s created", name, extra={"arn": key})
        return provider

    def delete(self, provider: CapacityProvider) -> CapacityProvider:
        provider.status = ProviderStatus.INACTIVE
        provider.update_status = "DELETE_COMPLETE"
        provider.managed_policies = {}
        provider.cleanup = bool(provider.group_name)
        self.save(provider)
        return provider


# -- strategies ---------------------------------------------------------------------------


def parse_strategy(raw: Sequence[Mapping[str, Any]], name: str) -> list[StrategyItem]:
    """A `capacityProviderStrategy`, checked as ECS checks it."""
    if len(raw) > MAX_STRATEGY:
        raise InvalidParameterException(
            f"A capacity provider strategy can have at most {MAX_STRATEGY} items ({name})."
        )
    items = [
        StrategyItem(str(r.get("capacityProvider", "")), int(r.get("weight", 0) or 0),
                     int(r.get("base", 0) or 0))
        for r in raw
    ]  # fmt: skip
    names = [i.provider for i in items]
    if len(set(names)) != len(names):
        raise InvalidParameterException(
            f"The capacity provider strategy cannot contain a capacity provider twice ({name})."
        )
    if sum(1 for i in items if i.base > 0) > 1:
        raise InvalidParameterException(
            f"Only one capacity provider in a strategy can have a base defined ({name})."
        )
    if items and not any(i.weight > 0 for i in items):
        raise InvalidParameterException(
            f"At least one capacity provider in a strategy must have a weight greater than "
            f"zero ({name})."
        )
    fargate = {i.provider in FARGATE_PROVIDERS for i in items}
    if len(fargate) > 1:
        raise InvalidParameterException(
            "A capacity provider strategy cannot contain a mix of capacity providers using "
            f"Auto Scaling groups and Fargate providers ({name})."
        )
    return items


def next_provider(items: Sequence[StrategyItem], counts: Mapping[str, int]) -> str:
    """The provider the next task goes to, given how many each already has."""
    for item in items:
        if item.base > counts.get(item.provider, 0):
            return item.provider
    weighted = [i for i in items if i.weight > 0]
    best = min(
        range(len(weighted)),
        key=lambda k: (
            (max(0, counts.get(weighted[k].provider, 0) - weighted[k].base) + 1)
            / weighted[k].weight,
            k,
        ),
    )
    return weighted[best].provider


def split(items: Sequence[StrategyItem], count: int, counts: Mapping[str, int]) -> list[str]:
    """Providers for `count` more tasks, one per task, in order."""
    counts = dict(counts)
    chosen = []
    for _ in range(count):
        provider = next_provider(items, counts)
        counts[provider] = counts.get(provider, 0) + 1
        chosen.append(provider)
    return chosen


def launch_type_for(provider: str) -> str:
    return "FARGATE" if provider in FARGATE_PROVIDERS else "EC2"


def strategy_to_wire(items: Sequence[StrategyItem]) -> list[dict[str, Any]]:
    return [{"capacityProvider": i.provider, "weight": i.weight, "base": i.base} for i in items]
