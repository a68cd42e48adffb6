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


def not_found(code: str, what: str, ids: list[str] | str) -> ServiceError:
    """`InvalidVpcID.NotFound: The vpc ID 'vpc-1' does not exist`."""
    shown = ids if isinstance(ids, str) else ", ".join(ids)
    return ServiceError(f"The {what} ID '{shown}' does not exist", code=code)


def malformed(code: str, what: str, value: str) -> ServiceError:
    """`InvalidVpcID.Malformed: Invalid id: "x" (expecting "vpc-...")`."""
    return ServiceError(f'Invalid id: "{value}" (expecting "{what}-...")', code=code)


def missing(name: str) -> MissingParameter:
    return MissingParameter(f"The request must contain the parameter {name}")


def invalid(name: str, value: object, why: str = "") -> InvalidParameterValue:
    tail = f". {why}" if why else ""
    return InvalidParameterValue(f"Value ({value}) for parameter {name} is invalid{tail}")
