"""`api`: EC2 Auto Scaling's operations on a fresh world, called as the front door calls
them (see test_ops.Api)."""

from __future__ import annotations

import pytest

from tests.unit.services.ec2autoscaling.fakes import world
from tests.unit.services.ec2autoscaling.test_ops import Api


@pytest.fixture
def api() -> Api:
    return Api(world())
