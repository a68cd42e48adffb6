"""The registration plan: register what is missing or changed, deregister what is extra."""

from __future__ import annotations

from dockyard.controllers.service_registries import plan

REG = "arn:aws:servicediscovery:us-east-1:000000000000:service/srv-1"


def attrs(ip: str, port: str = "80") -> dict[str, str]:
    return {"AWS_INSTANCE_IPV4": ip, "AWS_INSTANCE_PORT": port}


def test_nothing_to_do_when_cloud_map_holds_what_runs() -> None:
    both = {(REG, "a"): attrs("10.0.0.1"), (REG, "b"): attrs("10.0.0.2")}
    decided = plan(both, dict(both))
    assert decided.register == {} and decided.deregister == []


def test_new_tasks_register_and_stopped_tasks_deregister() -> None:
    decided = plan({(REG, "a"): attrs("10.0.0.1"), (REG, "c"): attrs("10.0.0.3")},
                   {(REG, "a"): attrs("10.0.0.1"), (REG, "b"): attrs("10.0.0.2")})  # fmt: skip
    assert decided.register == {(REG, "c"): attrs("10.0.0.3")}
    assert decided.deregister == [(REG, "b")]


def test_a_changed_port_registers_again() -> None:
    decided = plan({(REG, "a"): attrs("10.0.0.1", "81")}, {(REG, "a"): attrs("10.0.0.1")})
    assert decided.register == {(REG, "a"): attrs("10.0.0.1", "81")}
    assert decided.deregister == []


def test_a_deleted_service_deregisters_everything() -> None:
    decided = plan({}, {(REG, "a"): attrs("10.0.0.1"), (REG, "b"): attrs("10.0.0.2")})
    assert decided.deregister == [(REG, "a"), (REG, "b")]
