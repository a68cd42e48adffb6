"""What CodeDeploy checks in ECS and ELB, answered by those services (`BlueGreenTargets`)."""

from __future__ import annotations

from dockyard.core.errors import ServiceError
from dockyard.core.scope import Scope as EcsScope
from dockyard.core.scope import Scope as ElbScope
from dockyard.services.codedeploy.ports import EcsServiceView
from dockyard.services.ecs.service import Ecs
from dockyard.services.elbv2.service import Elbv2


class EcsBlueGreenTargets:
    def __init__(self, ecs: Ecs, elb: Elbv2) -> None:
        self.ecs = ecs
        self.elb = elb

    def ecs_service(
        self, account_id: str, region: str, cluster: str, service: str
    ) -> EcsServiceView | None:
        scope = EcsScope(account_id, region)
        found = self.ecs.clusters.find(scope, cluster)
        if found is None:
            return None
        svc = self.ecs.services.find(scope, found.arn, service)
        if svc is None:
            return None
        groups = tuple(str(lb.get("targetGroupArn")) for lb in svc.load_balancers
                       if lb.get("targetGroupArn"))  # fmt: skip
        return EcsServiceView(svc.arn, svc.status, svc.deployment_controller,
                              svc.task_definition_arn, groups)  # fmt: skip

    def target_group_arn(self, account_id: str, region: str, name: str) -> str | None:
        tg = self.elb.directory.tg_by_name(ElbScope(account_id, region), name)
        return tg.arn if tg is not None else None

    def listener_exists(self, account_id: str, region: str, listener_arn: str) -> bool:
        try:
            self.elb.directory.listener(ElbScope(account_id, region), listener_arn)
        except ServiceError:
            return False
        return True

    def task_definition_arn(self, account_id: str, region: str, ref: str) -> str | None:
        try:
            doc = self.ecs.taskdefs.resolve(EcsScope(account_id, region), ref, launchable=True)
        except ServiceError:
            return None
        return str(doc["taskDefinitionArn"])
