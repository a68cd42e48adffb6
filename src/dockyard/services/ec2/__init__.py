"""Amazon EC2: networking records, launch templates, images and instances (the `ec2` query
protocol). Each request first makes its account and region's default VPC (once);
`DryRun=true` answers `DryRunOperation` after the parameters were checked by the front door."""

from __future__ import annotations

import inspect

from dockyard.api.context import RequestContext, scope_of
from dockyard.api.provider import Handler, Params, Provider, Result
from dockyard.services.ec2 import access, ops_regions, ops_tags
from dockyard.services.ec2.errors import DryRunOperation
from dockyard.services.ec2.fleet import Ec2Fleet
from dockyard.services.ec2.images import ops as ops_images
from dockyard.services.ec2.instances import ops as ops_instances
from dockyard.services.ec2.instances.model import Instance
from dockyard.services.ec2.metadata import KEY_KIND as IDENTITY_KEY_KIND
from dockyard.services.ec2.metadata import Ec2Metadata
from dockyard.services.ec2.network import ops_acls, ops_groups, ops_routes, ops_vpcs
from dockyard.services.ec2.network.state import DEFAULTS_KIND
from dockyard.services.ec2.service import RECORD_KINDS, Ec2
from dockyard.services.ec2.templates import ops as ops_templates
from dockyard.services.ec2.templates.model import TemplateVersion

KINDS = (*(cls.KIND for cls in RECORD_KINDS), DEFAULTS_KIND)
# Sealed at rest: launch template data and instances carry user data, which often holds
# secrets.
# The key that signs instance identity documents too.
SEALED_KINDS = (TemplateVersion.KIND, Instance.KIND, IDENTITY_KEY_KIND)

__all__ = ["KINDS", "SEALED_KINDS", "Ec2", "Ec2Fleet", "Ec2Metadata", "provider"]


def served(ec2: Ec2, handler: Handler) -> Handler:
    def run(ctx: RequestContext, p: Params) -> Result:
        ec2.ensure_defaults(scope_of(ctx))
        if p.get("DryRun"):
            raise DryRunOperation("Request would have succeeded, but DryRun flag is set.")
        result = handler(ctx, p)
        assert not inspect.isawaitable(result)
        return result

    return run


def provider(ec2: Ec2) -> Provider:
    handlers: dict[str, Handler] = {
        **ops_regions.handlers(lambda ctx: ec2.default_vpc(scope_of(ctx))),
        **ops_vpcs.handlers(ec2.vpcs),
        **ops_groups.handlers(ec2.groups),
        **ops_routes.handlers(ec2.routes, ec2.vpcs),
        **ops_tags.handlers(ec2.tagging),
        **ops_acls.handlers(ec2.records),
        **ops_templates.handlers(ec2.templates),
        **ops_images.handlers(ec2.images),
        **ops_instances.handlers(ec2),
    }
    return Provider(
        service="ec2",
        handlers={name: served(ec2, h) for name, h in handlers.items()},
        validation_error_code="InvalidParameterValue",
        reset=ec2.reset,
        access=access.access(ec2),
    )
