"""Records as Lambda's output shapes."""

from __future__ import annotations

import time

from dockyard.api.provider import Result
from dockyard.services.awslambda.model import LATEST, Alias, Config, Function, function_arn


def last_modified(seconds: float) -> str:
    """Lambda's LastModified: `2024-05-01T12:00:00.000+0000`."""
    whole = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
    return f"{whole}.{int(seconds * 1000) % 1000:03d}+0000"


def configuration(fn: Function, config: Config) -> Result:
    arn = function_arn(
        fn.account_id, fn.region, fn.name, None if config.version == LATEST else config.version
    )
    out: Result = {
        "FunctionName": fn.name,
        "FunctionArn": arn,
        "Runtime": config.runtime,
        "Role": config.role,
        "Handler": config.handler,
        "CodeSize": config.code_size,
        "Description": config.description,
        "Timeout": config.timeout,
        "MemorySize": config.memory_size,
        "LastModified": last_modified(config.last_modified),
        "CodeSha256": config.code_sha256,
        "Version": config.version,
        "TracingConfig": {"Mode": "PassThrough"},
        "RevisionId": config.revision_id,
        "State": config.state,
        "LastUpdateStatus": config.last_update_status,
        "PackageType": "Zip",
        "Architectures": ["x86_64"],
        "EphemeralStorage": {"Size": config.ephemeral_storage},
        "SnapStart": {"ApplyOn": "None", "OptimizationStatus": "Off"},
        "LoggingConfig": {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{fn.name}"},
    }
    if config.environment:
        out["Environment"] = {"Variables": dict(config.environment)}
    if config.state_reason:
        out["StateReason"] = config.state_reason
    if config.state_reason_code:
        out["StateReasonCode"] = config.state_reason_code
    if config.last_update_reason and config.last_update_status != "Successful":
        out["LastUpdateStatusReason"] = config.last_update_reason
    return out


def alias(found: Alias) -> Result:
    out: Result = {
        "AliasArn": found.arn,
        "Name": found.name,
        "FunctionVersion": found.function_version,
        "Description": found.description,
        "RevisionId": found.revision_id,
    }
    if found.weights:
        out["RoutingConfig"] = {"AdditionalVersionWeights": dict(found.weights)}
    return out
