"""What Lambda checks of a function's name, runtime, handler and environment, in its words."""

from __future__ import annotations

import re
from dataclasses import dataclass

from dockyard.core.scope import Scope
from dockyard.services.awslambda.errors import (
    InvalidParameterValueException,
    ResourceNotFoundException,
)

NAME = re.compile(r"[a-zA-Z0-9_-]{1,64}")
QUALIFIER = re.compile(r"\$LATEST|[a-zA-Z0-9_-]{1,128}")
ALIAS = re.compile(r"(?!^[0-9]+$)[a-zA-Z0-9_-]{1,128}")
ENV_KEY = re.compile(r"[a-zA-Z][a-zA-Z0-9_]+")
FULL_ARN = re.compile(
    r"arn:aws[a-z-]*:lambda:([a-z0-9-]+):(\d{12}):function:([a-zA-Z0-9_-]+)(?::(\S+))?"
)
PARTIAL_ARN = re.compile(r"(\d{12}):function:([a-zA-Z0-9_-]+)(?::(\S+))?")

# The Python runtimes run on the server's own Python (with the runtime interface client);
# provided.* runs the zip's `bootstrap`.
PYTHON_RUNTIMES = ("python3.9", "python3.10", "python3.11", "python3.12", "python3.13")
DEPRECATED = ("python2.7", "python3.6", "python3.7", "python3.8", "provided")
PROVIDED_RUNTIMES = ("provided.al2", "provided.al2023")
RUNTIMES = PYTHON_RUNTIMES + PROVIDED_RUNTIMES

# Variables Lambda sets itself; a function may not set them (Lambda's reserved keys).
RESERVED_KEYS = frozenset(
    {
        "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION",
        "AWS_EXECUTION_ENV", "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
    }
)  # fmt: skip
MAX_ENV_BYTES = 4096


@dataclass(frozen=True, slots=True)
class FunctionRef:
    name: str
    qualifier: str | None


def parse_name(scope: Scope, value: str) -> FunctionRef:
    """A FunctionName as Lambda takes it: a name, `name:qualifier`, a partial ARN
    (`account:function:name`) or a full ARN, either with an optional qualifier."""
    m = FULL_ARN.fullmatch(value)
    if m is not None:
        region, account, name, qualifier = m.groups()
        if region != scope.region or account != scope.account_id:
            raise ResourceNotFoundException(f"Function not found: {value}")
        return FunctionRef(name, _qualifier(qualifier))
    m = PARTIAL_ARN.fullmatch(value)
    if m is not None:
        account, name, qualifier = m.groups()
        if account != scope.account_id:
            raise ResourceNotFoundException(f"Function not found: {value}")
        return FunctionRef(name, _qualifier(qualifier))
    name, _, qualifier = value.partition(":")
    if not NAME.fullmatch(name):
        raise InvalidParameterValueException(
            f"1 validation error detected: Value '{value}' at 'functionName' failed to satisfy "
            "constraint: Member must satisfy regular expression pattern: "
            "(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?"
            "(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?"
        )
    return FunctionRef(name, _qualifier(qualifier or None))


def _qualifier(value: str | None) -> str | None:
    if value is None:
        return None
    if not QUALIFIER.fullmatch(value):
        raise InvalidParameterValueException(f"Invalid qualifier: {value}")
    return value


def check_runtime(runtime: str | None) -> str:
    if runtime is None:
        raise InvalidParameterValueException(
            "The Runtime parameter is required for .zip file archive functions (Runtime)."
        )
    if runtime in DEPRECATED:
        raise InvalidParameterValueException(
            f"The runtime parameter of {runtime} is no longer supported for creating or "
            "updating AWS Lambda functions. We recommend you use a supported runtime while "
            "creating or updating functions."
        )
    if runtime not in RUNTIMES:
        raise InvalidParameterValueException(
            f"Dockyard runs the runtimes {', '.join(RUNTIMES)}; it cannot run {runtime} (Runtime)."
        )
    return runtime


def check_handler(runtime: str, handler: str | None) -> str:
    if handler is None:
        if runtime in PROVIDED_RUNTIMES:
            return ""
        raise InvalidParameterValueException(
            "The Handler parameter is required for .zip file archive functions (Handler)."
        )
    if runtime in PYTHON_RUNTIMES and "." not in handler:
        raise InvalidParameterValueException(
            f"The handler {handler} names no function: use module.function (Handler)."
        )
    return handler


def check_environment(variables: dict[str, str]) -> dict[str, str]:
    reserved = sorted(k for k in variables if k in RESERVED_KEYS)
    if reserved:
        raise InvalidParameterValueException(
            "Lambda was unable to configure your environment variables because the "
            "environment variables you have provided contains reserved keys that are "
            "currently not supported for modification. Reserved keys used in this request: "
            + ", ".join(reserved)
        )
    for key in variables:
        if not ENV_KEY.fullmatch(key):
            raise InvalidParameterValueException(
                f"Lambda was unable to configure your environment variables because the "
                f"environment variables you have provided are not valid: {key} (Environment)."
            )
    size = sum(len(k.encode()) + len(v.encode()) for k, v in variables.items())
    if size > MAX_ENV_BYTES:
        raise InvalidParameterValueException(
            "Lambda was unable to configure your environment variables because the "
            "environment variables you have provided exceeded the 4KB limit. "
            f"String measured: {size} bytes (Environment)."
        )
    return dict(variables)


def check_alias_name(name: str) -> str:
    if not ALIAS.fullmatch(name):
        raise InvalidParameterValueException(
            f"1 validation error detected: Value '{name}' at 'name' failed to satisfy "
            "constraint: Member must satisfy regular expression pattern: "
            "(?!^[0-9]+$)([a-zA-Z0-9-_]+)"
        )
    return name


def check_weights(primary: str, weights: dict[str, float]) -> dict[str, float]:
    if len(weights) > 1:
        raise InvalidParameterValueException(
            "Number of items in AdditionalVersionWeights cannot be greater than 1 (RoutingConfig)."
        )
    for version, weight in weights.items():
        if not version.isdigit():
            raise InvalidParameterValueException(
                f"Invalid function version {version} in AdditionalVersionWeights: "
                "an alias routes to published versions only (RoutingConfig)."
            )
        if version == primary:
            raise InvalidParameterValueException(
                f"Invalid function version {version}. Function version {version} is "
                "already included in routing configuration."
            )
        if not 0.0 <= weight <= 1.0:
            raise InvalidParameterValueException(
                f"Invalid weight {weight} for version {version}: between 0.0 and 1.0 "
                "(RoutingConfig)."
            )
    return dict(weights)
