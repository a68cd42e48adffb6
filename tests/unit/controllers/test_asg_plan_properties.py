"""Property tests of the Auto Scaling group plan: for any group of healthy in-service
instances, the plan closes the gap to the desired capacity exactly (as far as protection
allows), never takes a protected instance, and never makes the zones less balanced."""

from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from dockyard.controllers.asg_plan import plan
from dockyard.core.fleet import InstanceStatus
from dockyard.services.ec2autoscaling.model import Group, GroupInstance, LifecycleState

NOW = 1_700_000_000.0
ZONES = ("us-east-1a", "us-east-1b", "us-east-1c")

members = st.lists(
    st.tuples(st.sampled_from(ZONES), st.booleans(), st.floats(0, 20_000)), max_size=12
)


def build(spec: list[tuple[str, bool, float]], desired: int) -> Group:
    g = Group("web", "arn:g", "123456789012", "us-east-1", NOW, 0, 20, desired,
              template_id="lt-1", zones=list(ZONES),
              subnets=[f"subnet-{z[-1]}" for z in ZONES],
              subnet_zones={f"subnet-{z[-1]}": z for z in ZONES})  # fmt: skip
    g.suspended = {"AZRebalance": "User suspended"}  # only the capacity changes here
    for n, (zone, protected, age) in enumerate(spec):
        iid = f"i-{n:02d}"
        g.instances[iid] = GroupInstance(iid, zone, f"subnet-{zone[-1]}", "t3.micro", "lt-1",
                                         None, "1", LifecycleState.IN_SERVICE, NOW - age,
                                         protected=protected, in_service_at=NOW - age)  # fmt: skip
    return g


def observed(g: Group) -> dict[str, InstanceStatus]:
    return {
        i.instance_id: InstanceStatus(i.instance_id, "running", i.zone, i.subnet_id, "ip",
                                      "t3.micro", True)
        for i in g.instances.values()
    }  # fmt: skip


def spread(counts: Counter[str]) -> int:
    return max(counts[z] for z in ZONES) - min(counts[z] for z in ZONES)


@settings(max_examples=80, deadline=None)
@given(members, st.integers(0, 20))
def test_the_plan_closes_the_gap_to_the_desired_capacity(spec: list[tuple[str, bool, float]],
                                                        desired: int) -> None:  # fmt: skip
    g = build(spec, desired)
    p = plan(g, observed(g), {}, NOW)
    have = len(spec)
    free = sum(1 for _, protected, _ in spec if not protected)
    before = Counter(i.zone for i in g.instances.values())
    after = Counter(before)
    if have < desired:
        assert len(p.launch) == desired - have and not p.scale_in
        after.update(x.zone for x in p.launch)
        assert spread(after) <= max(spread(before), 1)
    elif have > desired:
        assert not p.launch
        assert len(p.scale_in) == min(have - desired, free)
        chosen = {r.instance_id for r in p.scale_in}
        assert not any(g.instances[i].protected for i in chosen)
        after.subtract(g.instances[i].zone for i in chosen)
        if free == have:
            assert spread(after) <= max(spread(before), 1)
    else:
        assert not p.launch and not p.scale_in
    assert not p.replace and not p.unhealthy
