"""Auto Scaling groups as typed calls: create, update, delete, capacity, tags, processes and
target groups. Each validates, builds the new group record and commits it
(`Ec2AutoScaling.commit`); the controller does the rest."""

from __future__ import annotations

from dockyard.core.fleet import FleetError, missing_template
from dockyard.core.ids import new_uuid
from dockyard.core.scope import Scope
from dockyard.services.ec2autoscaling import lifecycle, validation
from dockyard.services.ec2autoscaling.errors import (
    AlreadyExists,
    LimitExceeded,
    ResourceInUse,
    ScalingActivityInProgress,
    ValidationError,
)
from dockyard.services.ec2autoscaling.model import (
    COUNTED,
    ActivityStatus,
    Group,
    LifecycleState,
    Process,
    Tag,
    group_arn,
    group_key,
)
from dockyard.services.ec2autoscaling.service import Ec2AutoScaling
from dockyard.services.ec2autoscaling.validation import GroupSpec, TemplateRef

MAX_GROUPS = 500


def _zones_of(asg: Ec2AutoScaling, scope: Scope, subnets: list[str]) -> dict[str, str]:
    if not subnets:
        return {}
    found = dict(asg.fleet.zones(scope, subnets)) if asg.fleet is not None else {}
    for subnet in subnets:
        if subnet not in found:
            raise ValidationError(f"The subnet ID '{subnet}' does not exist")
    return found


def _resolve(asg: Ec2AutoScaling, scope: Scope, ref: TemplateRef) -> TemplateRef:
    """The launch template as the group records it: both its id and its name, and the
    version as given ($Default, $Latest or a number), once EC2 says it exists."""
    if asg.fleet is None:  # no EC2: no launch template exists
        raise ValidationError(missing_template(ref.template_id, ref.template_name).message)
    try:
        found = asg.fleet.template(scope, ref.template_id, ref.template_name, ref.version)
    except FleetError as exc:
        raise ValidationError(exc.message) from exc
    return TemplateRef(found.template_id, found.template_name, ref.version)


def _check_target_groups(asg: Ec2AutoScaling, scope: Scope, arns: list[str]) -> None:
    for value in arns:
        kind = (asg.target_groups.target_type(scope.account_id, scope.region, value)
                if asg.target_groups is not None else None)  # fmt: skip
        if kind is None:
            raise ValidationError(
                f"Provided Target Groups may not be valid. Please ensure they "
                f"exist and try again. Target group not found: {value}"
            )
        if kind != "instance":
            raise ValidationError(
                f"Target group {value} has target type {kind}: an Auto "
                "Scaling group registers its instances in target groups of "
                "target type instance."
            )


def create(asg: Ec2AutoScaling, scope: Scope, name: str, spec: GroupSpec) -> Group:
    if group_key(scope, name) in asg.groups:
        raise AlreadyExists(f"AutoScalingGroup by this name already exists - A group with the "
                            f"name {name} already exists")  # fmt: skip
    if len(asg.groups_of(scope)) >= MAX_GROUPS:
        raise LimitExceeded(f"You have reached your limit of {MAX_GROUPS} Auto Scaling groups.")
    if spec.template is None or spec.min_size is None or spec.max_size is None:
        raise ValidationError("CreateAutoScalingGroup needs LaunchTemplate, MinSize and MaxSize.")
    desired = spec.desired if spec.desired is not None else spec.min_size
    validation.bounds(spec.min_size, spec.max_size, desired)
    template = _resolve(asg, scope, spec.template)
    subnets = spec.subnets or []
    subnet_zones = _zones_of(asg, scope, subnets)
    zones = list(dict.fromkeys(subnet_zones[s] for s in subnets)) if subnets else []
    if spec.zones and subnets and not set(zones) <= set(spec.zones):
        raise ValidationError("The availability zones of the specified subnets and the Auto "
                              "Scaling group do not match")  # fmt: skip
    zones = zones or list(spec.zones or [])
    if spec.target_groups:
        _check_target_groups(asg, scope, spec.target_groups)
    now = asg.clock.now()
    group = Group(
        name=name, arn=group_arn(scope, name, new_uuid()), account_id=scope.account_id,
        region=scope.region, created=now, min_size=spec.min_size, max_size=spec.max_size,
        desired=desired, template_id=template.template_id,
        template_name=template.template_name, template_version=template.version,
        zones=zones, subnets=subnets, subnet_zones=subnet_zones,
        health_check_type=spec.health_check_type or "EC2",
        grace_period=spec.grace_period or 0,
        default_cooldown=300 if spec.default_cooldown is None else spec.default_cooldown,
        target_groups=list(spec.target_groups or []),
        termination_policies=list(spec.termination_policies or ["Default"]),
        protect_new=bool(spec.protect_new), tags=_merge_tags([], spec.tags),
        service_linked_role=spec.service_linked_role or (
            f"arn:aws:iam::{scope.account_id}:role/aws-service-role/"
            "autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"),
    )  # fmt: skip
    if desired:
        group.capacity_cause = (f"At {asg.stamp(now)} a user request created an "
                                f"AutoScalingGroup changing the desired capacity from 0 to "
                                f"{desired}.")  # fmt: skip
    asg.commit([group])
    return group


def _live(asg: Ec2AutoScaling, scope: Scope, name: str) -> Group:
    group = asg.group(scope, name)
    if group.deleting:
        raise ScalingActivityInProgress(f"The AutoScalingGroup {name} is being deleted.")
    return group


def update(asg: Ec2AutoScaling, scope: Scope, name: str, spec: GroupSpec) -> Group:
    old = _live(asg, scope, name)
    group = old.copy()
    min_size = spec.min_size if spec.min_size is not None else group.min_size
    max_size = spec.max_size if spec.max_size is not None else group.max_size
    desired = spec.desired
    if desired is None:
        # A new minimum or maximum carries the desired capacity along, as AWS does.
        desired = min(max(group.desired, min_size), max_size)
    validation.bounds(min_size, max_size, desired)
    if spec.template is not None:
        template = _resolve(asg, scope, spec.template)
        group.template_id = template.template_id
        group.template_name = template.template_name
        group.template_version = template.version
    if spec.subnets is not None:
        if not spec.subnets:
            raise ValidationError("At least one Availability Zone or VPC Subnet is required.")
        group.subnet_zones = _zones_of(asg, scope, spec.subnets)
        group.subnets = spec.subnets
        group.zones = list(dict.fromkeys(group.subnet_zones[s] for s in spec.subnets))
    elif spec.zones is not None:
        group.zones = spec.zones
    if spec.health_check_type is not None:
        group.health_check_type = spec.health_check_type
    if spec.grace_period is not None:
        group.grace_period = spec.grace_period
    if spec.default_cooldown is not None:
        group.default_cooldown = spec.default_cooldown
    if spec.termination_policies is not None:
        group.termination_policies = spec.termination_policies
    if spec.protect_new is not None:
        group.protect_new = spec.protect_new
    if spec.service_linked_role is not None:
        group.service_linked_role = spec.service_linked_role
    group.min_size, group.max_size = min_size, max_size
    if desired != group.desired:
        group.capacity_cause = (f"At {asg.stamp()} a user request update of AutoScalingGroup "
                                f"constraints to min: {min_size}, max: {max_size}, desired: "
                                f"{desired} changing the desired capacity from "
                                f"{group.desired} to {desired}.")  # fmt: skip
        group.desired = desired
    asg.commit([group])
    return group


def delete(asg: Ec2AutoScaling, scope: Scope, name: str, force: bool) -> None:
    old = asg.group(scope, name)
    if old.deleting:
        return
    if not force:
        if old.instances:
            raise ResourceInUse(
                "You cannot delete an AutoScalingGroup while there are instances "
                "or pending Spot instance request(s) still in the group."
            )
        if any(a.status not in (ActivityStatus.SUCCESSFUL, ActivityStatus.FAILED,
                                ActivityStatus.CANCELLED)
               for a in asg.activities.get(old.key, [])):  # fmt: skip
            raise ScalingActivityInProgress(
                "You cannot delete an AutoScalingGroup while there "
                "are scaling activities in progress for that group."
            )
    policies = asg.policies_of(old)
    alarms = [n for p in policies for n in p.alarm_names]
    if not old.instances:
        asg.commit(deleted_groups=[old], deleted_policies=policies)
    else:
        # ForceDelete: every instance goes (and is terminated) without waiting for its
        # lifecycle actions, which are deleted with the group's hooks.
        group = old.copy()
        group.deleting, group.force_delete = True, True
        group.min_size = group.max_size = group.desired = 0
        group.hooks.clear()
        now = asg.stamp()
        group.capacity_cause = (
            f"At {now} a user request deleted the AutoScalingGroup "
            f"changing the desired capacity from {old.desired} to 0."
        )
        change = lifecycle.Change()
        for inst in sorted(group.instances.values(), key=lambda i: i.instance_id):
            if inst.state in COUNTED:
                cause = (
                    f"{group.capacity_cause}  At {now} an instance was taken out of "
                    "service in response to a difference between desired and actual "
                    f"capacity, shrinking the capacity from {old.desired} to 0."
                )
                change.add(lifecycle.begin_terminate(asg, group, inst, cause, hooks=False))
            elif inst.action_token is not None:  # Terminating:Wait: it goes on now
                inst.hook_name = inst.action_token = None
                inst.action_deadline = inst.action_global_deadline = None
                inst.state = LifecycleState.TERMINATING_PROCEED
        asg.commit([group], activities=change.activities, deleted_policies=policies,
                   events=change.events)  # fmt: skip
    if alarms and asg.alarms is not None:
        asg.alarms.delete_alarms(scope.account_id, scope.region, alarms)


def set_desired(asg: Ec2AutoScaling, scope: Scope, name: str, desired: int,
                honor_cooldown: bool = False) -> None:  # fmt: skip
    old = _live(asg, scope, name)
    if desired > old.max_size:
        raise ValidationError(f"New SetDesiredCapacity value {desired} is above max value "
                              f"{old.max_size} for the AutoScalingGroup.")  # fmt: skip
    if desired < old.min_size:
        raise ValidationError(f"New SetDesiredCapacity value {desired} is below min value "
                              f"{old.min_size} for the AutoScalingGroup.")  # fmt: skip
    now = asg.clock.now()
    if (
        honor_cooldown
        and old.last_scaled is not None
        and now - old.last_scaled < (old.default_cooldown)
    ):
        raise ScalingActivityInProgress("Scaling activity is in progress or the group is in "
                                        "its cooldown period.")  # fmt: skip
    if desired == old.desired:
        return
    group = old.copy()
    group.capacity_cause = (f"At {asg.stamp(now)} a user request explicitly set group desired "
                            f"capacity changing the desired capacity from {old.desired} to "
                            f"{desired}.")  # fmt: skip
    group.desired = desired
    group.last_scaled = now
    asg.commit([group])


def _merge_tags(current: list[Tag], new: list[Tag]) -> list[Tag]:
    by_key = {t.key: t for t in current}
    for tag in new:
        by_key[tag.key] = tag
    return sorted(by_key.values(), key=lambda t: t.key)


def put_tags(asg: Ec2AutoScaling, scope: Scope, name: str, tags: list[Tag]) -> None:
    group = asg.group(scope, name).copy()
    group.tags = _merge_tags(group.tags, tags)
    if len(group.tags) > validation.MAX_TAGS:
        raise LimitExceeded(f"The number of tags must not exceed {validation.MAX_TAGS}.")
    asg.commit([group])


def delete_tags(asg: Ec2AutoScaling, scope: Scope, name: str, keys: list[str]) -> None:
    group = asg.group(scope, name).copy()
    group.tags = [t for t in group.tags if t.key not in set(keys)]
    asg.commit([group])


def suspend(asg: Ec2AutoScaling, scope: Scope, name: str, processes: list[Process]) -> None:
    group = asg.group(scope, name).copy()
    for process in processes:
        group.suspended.setdefault(process.value, f"User suspended at {asg.stamp()}")
    asg.commit([group])


def resume(asg: Ec2AutoScaling, scope: Scope, name: str, processes: list[Process]) -> None:
    group = asg.group(scope, name).copy()
    for process in processes:
        group.suspended.pop(process.value, None)
    asg.commit([group])


def attach_target_groups(asg: Ec2AutoScaling, scope: Scope, name: str, arns: list[str]) -> None:
    group = asg.group(scope, name).copy()
    arns = validation.target_group_arns(arns)
    _check_target_groups(asg, scope, arns)
    group.target_groups = list(dict.fromkeys([*group.target_groups, *arns]))
    if len(group.target_groups) > validation.MAX_TARGET_GROUPS:
        raise LimitExceeded("You have reached the limit of 50 target groups for this group.")
    for inst in group.instances.values():
        if inst.registered:
            inst.registered = False  # the controller registers it in the new ones too
    asg.commit([group])


def detach_target_groups(asg: Ec2AutoScaling, scope: Scope, name: str, arns: list[str]) -> None:
    group = asg.group(scope, name).copy()
    gone = [a for a in arns if a in group.target_groups]
    group.target_groups = [a for a in group.target_groups if a not in set(arns)]
    # The controller deregisters the instances from them (they drain there).
    group.released_target_groups = list(dict.fromkeys([*group.released_target_groups, *gone]))
    asg.commit([group])


def launch_error_message(exc: FleetError) -> str:
    return f"{exc.message}. Launching EC2 instance failed."
