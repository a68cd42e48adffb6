"""EC2: the networking records of every account and region (VPCs, subnets, security groups,
route tables, internet gateways), launch templates, and their tags; the built-in images.

`Ec2(store, clock)`; call `load()` once at start.
"""

from __future__ import annotations

from dockyard.core.clock import Clock, RealClock
from dockyard.core.scope import Scope
from dockyard.services.ec2.images.images import Images
from dockyard.services.ec2.network.groups import SecurityGroups
from dockyard.services.ec2.network.model import RECORDS, Resource
from dockyard.services.ec2.network.routes import Routes
from dockyard.services.ec2.network.state import Records, default_vpc_id
from dockyard.services.ec2.network.vpcs import Vpcs
from dockyard.services.ec2.tagging import Tagging
from dockyard.services.ec2.templates.model import LaunchTemplate, TemplateVersion
from dockyard.services.ec2.templates.templates import LaunchTemplates
from dockyard.store.base import Store

RECORD_KINDS: tuple[type[Resource], ...] = (*RECORDS, LaunchTemplate, TemplateVersion)


class Ec2:
    def __init__(self, store: Store, clock: Clock | None = None) -> None:
        self.store = store
        self.clock = clock or RealClock()
        self.records = Records(store, RECORD_KINDS)
        self.vpcs = Vpcs(self.records)
        self.groups = SecurityGroups(self.records)
        self.routes = Routes(self.records)
        self.tagging = Tagging(self.records)
        self.templates = LaunchTemplates(self.records, self.clock)
        self.images = Images()

    def load(self) -> None:
        self.records.load()

    def reset(self) -> None:
        self.records.reset()

    def ensure_defaults(self, scope: Scope) -> None:
        self.vpcs.ensure_defaults(scope)

    def default_vpc(self, scope: Scope) -> str | None:
        return default_vpc_id(self.records, scope)
