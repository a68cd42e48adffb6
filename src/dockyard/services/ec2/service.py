"""EC2: the networking records of every account and region (VPCs, subnets, security groups,
route tables, internet gateways) and their tags.

`Ec2(store)`; call `load()` once at start.
"""

from __future__ import annotations

from dockyard.core.scope import Scope
from dockyard.services.ec2.network.groups import SecurityGroups
from dockyard.services.ec2.network.routes import Routes
from dockyard.services.ec2.network.state import Records, default_vpc_id
from dockyard.services.ec2.network.vpcs import Vpcs
from dockyard.services.ec2.tagging import Tagging
from dockyard.store.base import Store


class Ec2:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.records = Records(store)
        self.vpcs = Vpcs(self.records)
        self.groups = SecurityGroups(self.records)
        self.routes = Routes(self.records)
        self.tagging = Tagging(self.records)

    def load(self) -> None:
        self.records.load()

    def reset(self) -> None:
        self.records.reset()

    def ensure_defaults(self, scope: Scope) -> None:
        self.vpcs.ensure_defaults(scope)

    def default_vpc(self, scope: Scope) -> str | None:
        return default_vpc_id(self.records, scope)
