"""What Application Auto Scaling operations act on: `*` (as AWS lists them), and
iam:PassRole for the RoleARN a scalable target names."""

from __future__ import annotations

from dockyard.api.access import AccessFunction, passrole, table

ACCESS: AccessFunction = table(
    "application-autoscaling",
    {},
    extra={
        "RegisterScalableTarget": passrole(("RoleARN",), "application-autoscaling.amazonaws.com")
    },
)
