"""The launch template of a group: looked up in EC2 when the group is created or updated,
and refused in AWS's words when it (or its version) does not exist."""

from __future__ import annotations

import pytest

from dockyard.core.errors import ServiceError
from dockyard.services.ec2autoscaling import groups
from dockyard.services.ec2autoscaling.validation import group_spec
from tests.unit.services.ec2autoscaling.fakes import LT, SCOPE, make_group, world

PREFIX = "You must use a valid fully-formed launch template."


def test_a_group_by_template_name_records_its_id_too() -> None:
    w = world()
    g = make_group(w, LaunchTemplate={"LaunchTemplateName": "web-template", "Version": "$Latest"})
    assert (g.template_id, g.template_name, g.template_version) == (LT, "web-template", "$Latest")


def test_a_group_by_template_id_records_its_name_too() -> None:
    g = make_group(world(), LaunchTemplate={"LaunchTemplateId": LT, "Version": "2"})
    assert (g.template_id, g.template_name, g.template_version) == (LT, "web-template", "2")


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ({"LaunchTemplateId": "lt-0000000000000000f"},
         f"{PREFIX} The specified launch template, with template ID lt-0000000000000000f, does "
         "not exist."),
        ({"LaunchTemplateName": "nope"},
         f"{PREFIX} The specified launch template, with template name nope, does not exist."),
        ({"LaunchTemplateId": LT, "Version": "9"},
         f"{PREFIX} The specified launch template version, with version number 9, does not "
         "exist."),
    ],
)  # fmt: skip
def test_a_missing_template_or_version_is_a_validation_error(template: dict[str, str],
                                                             message: str) -> None:  # fmt: skip
    w = world()
    with pytest.raises(ServiceError) as err:
        make_group(w, LaunchTemplate=template)
    assert (err.value.code, err.value.status, err.value.message) == ("ValidationError", 400,
                                                                     message)  # fmt: skip
    assert not w.asg.groups


def test_update_checks_the_new_template_and_keeps_the_old_one_when_refused() -> None:
    w = world()
    make_group(w)
    spec = group_spec({"LaunchTemplate": {"LaunchTemplateName": "other"}}, creating=False)
    with pytest.raises(ServiceError) as err:
        groups.update(w.asg, SCOPE, "web", spec)
    assert err.value.message.endswith("with template name other, does not exist.")
    assert w.asg.group(SCOPE, "web").template_id == LT
    w.fleet.templates[("lt-0fedcba9876543210", "other")] = (1, 1)
    groups.update(w.asg, SCOPE, "web", spec)
    g = w.asg.group(SCOPE, "web")
    assert (g.template_id, g.template_name, g.template_version) == (
        "lt-0fedcba9876543210", "other", "$Default")  # fmt: skip
