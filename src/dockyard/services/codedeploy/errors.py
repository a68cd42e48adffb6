"""CodeDeploy's error codes (each an exception the front door answers as AWS does)."""

from __future__ import annotations

from dockyard.core.errors import ServiceError


class CodeDeployError(ServiceError):
    code = "InvalidInputException"


class InvalidInputException(CodeDeployError):
    code = "InvalidInputException"


class ApplicationAlreadyExistsException(CodeDeployError):
    code = "ApplicationAlreadyExistsException"


class ApplicationDoesNotExistException(CodeDeployError):
    code = "ApplicationDoesNotExistException"


class InvalidApplicationNameException(CodeDeployError):
    code = "InvalidApplicationNameException"


class InvalidComputePlatformException(CodeDeployError):
    code = "InvalidComputePlatformException"


class DeploymentConfigAlreadyExistsException(CodeDeployError):
    code = "DeploymentConfigAlreadyExistsException"


class DeploymentConfigDoesNotExistException(CodeDeployError):
    code = "DeploymentConfigDoesNotExistException"


class DeploymentConfigInUseException(CodeDeployError):
    code = "DeploymentConfigInUseException"


class InvalidDeploymentConfigNameException(CodeDeployError):
    code = "InvalidDeploymentConfigNameException"


class InvalidOperationException(CodeDeployError):
    code = "InvalidOperationException"


class InvalidMinimumHealthyHostValueException(CodeDeployError):
    code = "InvalidMinimumHealthyHostValueException"


class InvalidTrafficRoutingConfigurationException(CodeDeployError):
    code = "InvalidTrafficRoutingConfigurationException"


class DeploymentGroupAlreadyExistsException(CodeDeployError):
    code = "DeploymentGroupAlreadyExistsException"


class DeploymentGroupDoesNotExistException(CodeDeployError):
    code = "DeploymentGroupDoesNotExistException"


class InvalidDeploymentGroupNameException(CodeDeployError):
    code = "InvalidDeploymentGroupNameException"


class InvalidDeploymentStyleException(CodeDeployError):
    code = "InvalidDeploymentStyleException"


class InvalidBlueGreenDeploymentConfigurationException(CodeDeployError):
    code = "InvalidBlueGreenDeploymentConfigurationException"


class InvalidLoadBalancerInfoException(CodeDeployError):
    code = "InvalidLoadBalancerInfoException"


class InvalidTargetGroupPairException(CodeDeployError):
    code = "InvalidTargetGroupPairException"


class InvalidECSServiceException(CodeDeployError):
    code = "InvalidECSServiceException"


class ECSServiceMappingLimitExceededException(CodeDeployError):
    code = "ECSServiceMappingLimitExceededException"


class InvalidAutoRollbackConfigException(CodeDeployError):
    code = "InvalidAutoRollbackConfigException"


class InvalidAlarmConfigException(CodeDeployError):
    code = "InvalidAlarmConfigException"


class AlarmsLimitExceededException(CodeDeployError):
    code = "AlarmsLimitExceededException"


class InvalidTriggerConfigException(CodeDeployError):
    code = "InvalidTriggerConfigException"


class DeploymentDoesNotExistException(CodeDeployError):
    code = "DeploymentDoesNotExistException"


class InvalidDeploymentIdException(CodeDeployError):
    code = "InvalidDeploymentIdException"


class DeploymentLimitExceededException(CodeDeployError):
    code = "DeploymentLimitExceededException"


class RevisionRequiredException(CodeDeployError):
    code = "RevisionRequiredException"


class InvalidRevisionException(CodeDeployError):
    code = "InvalidRevisionException"


class DescriptionTooLongException(CodeDeployError):
    code = "DescriptionTooLongException"


class DeploymentAlreadyCompletedException(CodeDeployError):
    code = "DeploymentAlreadyCompletedException"


class DeploymentIsNotInReadyStateException(CodeDeployError):
    code = "DeploymentIsNotInReadyStateException"


class InvalidDeploymentWaitTypeException(CodeDeployError):
    code = "InvalidDeploymentWaitTypeException"


class DeploymentTargetDoesNotExistException(CodeDeployError):
    code = "DeploymentTargetDoesNotExistException"


class DeploymentTargetListSizeExceededException(CodeDeployError):
    code = "DeploymentTargetListSizeExceededException"


class InvalidNextTokenException(CodeDeployError):
    code = "InvalidNextTokenException"


class InvalidDeploymentStatusException(CodeDeployError):
    code = "InvalidDeploymentStatusException"


class InvalidTagsToAddException(CodeDeployError):
    code = "InvalidTagsToAddException"


class ResourceArnRequiredException(CodeDeployError):
    code = "ResourceArnRequiredException"


class InvalidArnException(CodeDeployError):
    code = "InvalidArnException"


class ArnNotSupportedException(CodeDeployError):
    code = "ArnNotSupportedException"


class BatchLimitExceededException(CodeDeployError):
    code = "BatchLimitExceededException"
