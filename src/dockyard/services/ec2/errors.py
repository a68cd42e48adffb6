"""EC2's error codes (dotted ones are built with `code=`)."""

from __future__ import annotations

from dockyard.core.errors import ServiceError


class InvalidParameterValue(ServiceError):
    code = "InvalidParameterValue"


class MissingParameter(ServiceError):
    code = "MissingParameter"


class InvalidParameterCombination(ServiceError):
    code = "InvalidParameterCombination"


class DependencyViolation(ServiceError):
    code = "DependencyViolation"


class DryRunOperation(ServiceError):
    code = "DryRunOperation"
    status = 412


def malformed(code: str, what: str, value: str) -> ServiceError:
    """`InvalidVpcID.Malformed: Invalid id: "x" (expecting "vpc-...")`."""
    return ServiceError(f'Invalid id: "{value}" (expecting "{what}-...")', code=code)


def missing(name: str) -> MissingParameter:
    return MissingParameter(f"The request must contain the parameter {name}")


def invalid(name: str, value: object, why: str = "") -> InvalidParameterValue:
    tail = f". {why}" if why else ""
    return InvalidParameterValue(f"Value ({value}) for parameter {name} is invalid{tail}")
