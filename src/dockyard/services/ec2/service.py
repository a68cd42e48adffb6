"""EC2: the networking records of every account and region (VPCs, subnets, security groups,
route tables, internet gateways), launch templates, instances, and their tags; the built-in
images.

`Ec2(store, clock, no_runtime=...)`; call `load()` once at start. `no_runtime` says why this
server cannot boot instances (None once a host runtime drives them). Set by the composition
root: `profiles` (IAM instance profiles) and `console` (what a host wrote to its console).
"""

from __future__ import annotations

from collections.abc import Callable

from dockyard.core.clock import Clock, RealClock
from dockyard.core.scope import Scope
from dockyard.services.ec2.images.images import Images
from dockyard.services.ec2.instances.instances import Instances
from dockyard.services.ec2.instances.model import Instance
from dockyard.services.ec2.instances.profiles import InstanceProfiles
from dockyard.services.ec2.network.groups import SecurityGroups
from dockyard.services.ec2.network.model import RECORDS, Resource
from dockyard.services.ec2.network.routes import Routes
from dockyard.services.ec2.network.state import Records, default_vpc_id
from dockyard.services.ec2.network.vpcs import Vpcs
from dockyard.services.ec2.tagging import Tagging
from dockyard.services.ec2.templates.model import LaunchTemplate, TemplateVersion
from dockyard.services.ec2.templates.templates import LaunchTemplates
from dockyard.store.base import Store

RECORD_KINDS: tuple[type[Resource], ...] = (
    *RECORDS,
    LaunchTemplate,
    TemplateVersion,
    Instance,
)
NO_RUNTIME = "instances need the micro-host runtime, which this server does not have yet"


class Ec2:
    def __init__(
        self, store: Store, clock: Clock | None = None, no_runtime: str | None = NO_RUNTIME
    ) -> None:
        self.store = store
        self.clock = clock or RealClock()
        self.records = Records(store, RECORD_KINDS)
        self.vpcs = Vpcs(self.records)
        self.groups = SecurityGroups(self.records)
        self.routes = Routes(self.records)
        self.tagging = Tagging(self.records)
        self.templates = LaunchTemplates(self.records, self.clock)
        self.images = Images()
        self.instances = Instances(self.records, self.clock)
        self.no_runtime = no_runtime
        self.profiles: InstanceProfiles | None = None
        self.console: Callable[[str], bytes] | None = None

    def load(self) -> None:
        self.records.load()

    def reset(self) -> None:
        self.records.reset()

    def ensure_defaults(self, scope: Scope) -> None:
        self.vpcs.ensure_defaults(scope)

    def default_vpc(self, scope: Scope) -> str | None:
        return default_vpc_id(self.records, scope)
