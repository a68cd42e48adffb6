"""Functions: create, read, update, delete and publish, each change one store transaction
(validate -> build the new record -> commit -> apply to memory -> tell the environments).

A new function is `Pending` until its code is unpacked, then `Active`; an update is
`InProgress` until then, then `Successful`, as Lambda's waiters expect."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from dockyard.core.clock import Clock
from dockyard.core.envfiles import ObjectSource, ObjectUnavailable
from dockyard.core.ids import new_uuid
from dockyard.core.scope import Scope
from dockyard.services.awslambda import validation
from dockyard.services.awslambda.code import MAX_S3_ZIP_BYTES, CodeStore, Package
from dockyard.services.awslambda.errors import (
    InvalidParameterValueException,
    PreconditionFailedException,
    ResourceConflictException,
    ResourceNotFoundException,
)
from dockyard.services.awslambda.model import (
    KIND,
    LATEST,
    Config,
    Function,
    State,
    UpdateStatus,
    function_arn,
)
from dockyard.store.base import Store

log = logging.getLogger(__name__)


@dataclass(slots=True)
class CodeInput:
    zip_file: bytes | None = None
    s3_bucket: str | None = None
    s3_key: str | None = None
    s3_version: str | None = None


@dataclass(slots=True)
class CreateRequest:
    name: str
    role: str
    code: CodeInput
    runtime: str | None = None
    handler: str | None = None
    description: str = ""
    timeout: int = 3
    memory_size: int = 128
    environment: dict[str, str] = field(default_factory=dict)
    ephemeral_storage: int = 512
    publish: bool = False
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class ConfigChange:
    """UpdateFunctionConfiguration's members; None: unchanged."""

    role: str | None = None
    runtime: str | None = None
    handler: str | None = None
    description: str | None = None
    timeout: int | None = None
    memory_size: int | None = None
    environment: dict[str, str] | None = None
    ephemeral_storage: int | None = None
    revision_id: str | None = None


class Functions:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        code: CodeStore,
        objects: ObjectSource | None = None,
        check_role: Callable[[str, str], None] | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.code = code
        self.objects = objects
        # check_role(account_id, role_arn) raises InvalidParameterValueException when Lambda
        # cannot assume the role.
        self.check_role = check_role
        self.functions: dict[str, Function] = {}  # by unqualified ARN
        # Called with a function's ARN after its code or configuration changed or it was
        # deleted: warm environments of the old code retire.
        self.changed: list[Callable[[str], None]] = []
        self._pending: set[asyncio.Task[None]] = set()

    def load(self) -> None:
        self.functions.clear()
        for key, body in self.store.load(KIND):
            fn = Function.from_record(body)
            self.functions[key] = fn
            if fn.latest.state == State.PENDING or (
                fn.latest.last_update_status == UpdateStatus.IN_PROGRESS
            ):
                self._settle_later(fn.arn)

    def reset(self) -> None:
        self.functions.clear()

    # -- reading -------------------------------------------------------------------------

    def find(self, scope: Scope, name: str) -> Function:
        fn = self.functions.get(function_arn(scope.account_id, scope.region, name))
        if fn is None:
            raise ResourceNotFoundException(
                f"Function not found: {function_arn(scope.account_id, scope.region, name)}"
            )
        return fn

    def resolve(
        self, scope: Scope, name_or_arn: str, qualifier: str | None = None
    ) -> tuple[Function, str | None]:
        """The function and the qualifier (a version, an alias or None) a request names."""
        ref = validation.parse_name(scope, name_or_arn)
        if qualifier is not None and ref.qualifier is not None and qualifier != ref.qualifier:
            raise InvalidParameterValueException(
                "The derived qualifier from the function name does not match the specified "
                "qualifier."
            )
        return self.find(scope, ref.name), qualifier or ref.qualifier

    def config_of(self, fn: Function, qualifier: str | None) -> Config:
        """The configuration a qualifier names (an alias: its primary version)."""
        if qualifier is None or qualifier == LATEST:
            return fn.latest
        if qualifier in fn.aliases:
            qualifier = fn.aliases[qualifier].function_version
        config = fn.config(qualifier)
        if config is None:
            raise ResourceNotFoundException(
                f"Function not found: {function_arn(fn.account_id, fn.region, fn.name, qualifier)}"
            )
        return config

    def listed(self, scope: Scope) -> list[Function]:
        return sorted(
            (f for f in self.functions.values()
             if f.account_id == scope.account_id and f.region == scope.region),
            key=lambda f: f.name,
        )  # fmt: skip

    # -- writing -------------------------------------------------------------------------

    def commit(self, fn: Function) -> None:
        self.store.put(KIND, fn.arn, fn.to_record())
        self.functions[fn.arn] = fn

    def _notify(self, arn: str) -> None:
        for hook in self.changed:
            try:
                hook(arn)
            except Exception:
                log.exception("lambda: change hook failed", extra={"function_arn": arn})

    async def _package(self, scope: Scope, code: CodeInput) -> Package:
        if code.zip_file is not None:
            if code.s3_bucket or code.s3_key:
                raise InvalidParameterValueException(
                    "Please provide a source for function code (ZipFile or S3Bucket/S3Key), "
                    "not both."
                )
            return await self.code.save(code.zip_file)
        if not code.s3_bucket or not code.s3_key:
            raise InvalidParameterValueException(
                "Please provide a source for function code: ZipFile, or S3Bucket and S3Key."
            )
        if self.objects is None:
            raise InvalidParameterValueException("S3 is not served here (Code.S3Bucket).")
        if code.s3_version:
            raise InvalidParameterValueException(
                "Dockyard reads the current version of the object only (S3ObjectVersion)."
            )
        arn = f"arn:aws:s3:::{code.s3_bucket}/{code.s3_key}"
        try:
            data = await self.objects.read(scope.account_id, scope.region, arn, MAX_S3_ZIP_BYTES)
        except ObjectUnavailable as exc:
            code_, _, message = exc.message.partition(": ")
            raise InvalidParameterValueException(
                f"Error occurred while GetObject. S3 Error Code: {code_}. "
                f"S3 Error Message: {message or exc.message}"
            ) from exc
        return await self.code.save(data, MAX_S3_ZIP_BYTES)

    async def create(self, scope: Scope, req: CreateRequest) -> Function:
        ref = validation.parse_name(scope, req.name)
        if ref.qualifier is not None:
            raise InvalidParameterValueException(
                "A function name may not carry a qualifier when it is created (FunctionName)."
            )
        runtime = validation.check_runtime(req.runtime)
        handler = validation.check_handler(runtime, req.handler)
        environment = validation.check_environment(req.environment)
        arn = function_arn(scope.account_id, scope.region, ref.name)
        if arn in self.functions:
            raise ResourceConflictException(f"Function already exist: {ref.name}")
        if self.check_role is not None:
            self.check_role(scope.account_id, req.role)
        package = await self._package(scope, req.code)
        if arn in self.functions:  # created while the code was being read
            raise ResourceConflictException(f"Function already exist: {ref.name}")
        config = Config(
            version=LATEST, runtime=runtime, handler=handler, role=req.role,
            code_sha256=package.sha256, code_size=package.size, code_hex=package.hex,
            description=req.description, timeout=req.timeout, memory_size=req.memory_size,
            environment=environment, ephemeral_storage=req.ephemeral_storage,
            last_modified=self.clock.now(), revision_id=new_uuid(), state=State.PENDING,
            state_reason="The function is being created.", state_reason_code="Creating",
        )  # fmt: skip
        fn = Function(ref.name, arn, scope.account_id, scope.region, config, tags=dict(req.tags))
        if req.publish:
            fn = self._with_version(fn, "")
        self.commit(fn)
        self._settle_later(arn)
        return fn

    def _settle_later(self, arn: str) -> None:
        try:
            task = asyncio.get_running_loop().create_task(self._settle(arn))
        except RuntimeError:
            return  # no loop (a unit test): `settle` is called by hand
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _settle(self, arn: str) -> None:
        fn = self.functions.get(arn)
        if fn is None:
            return
        try:
            await self.code.unpack(fn.latest.code_hex)
            failure = None
        except Exception as exc:  # a package that cannot be unpacked: the function failed
            log.warning("lambda: cannot unpack the code of %s: %s", arn, exc)
            failure = str(exc)
        self.settle(arn, failure)

    def settle(self, arn: str, failure: str | None = None) -> None:
        """Creating or updating is done: Active / Successful (or Failed, saying why)."""
        fn = self.functions.get(arn)
        if fn is None:
            return
        new = Function.from_record(fn.to_record())
        latest = new.latest
        if latest.state == State.PENDING:
            latest.state = State.FAILED if failure else State.ACTIVE
            latest.state_reason = failure
            latest.state_reason_code = "InvalidZipFileException" if failure else None
        if latest.last_update_status == UpdateStatus.IN_PROGRESS:
            latest.last_update_status = UpdateStatus.FAILED if failure else UpdateStatus.SUCCESSFUL
            latest.last_update_reason = failure
        for version in new.versions.values():  # published while the code was unpacked
            if version.code_hex == latest.code_hex and version.state == State.PENDING:
                version.state = latest.state
        self.commit(new)

    def _updatable(self, fn: Function, revision_id: str | None) -> Function:
        if revision_id is not None and revision_id != fn.latest.revision_id:
            raise PreconditionFailedException(
                "The Revision Id provided does not match the latest Revision Id. Call the "
                "GetFunction/GetAlias API to retrieve the latest Revision Id"
            )
        if fn.latest.state == State.PENDING:
            raise ResourceConflictException(
                "The operation cannot be performed at this time. The function is currently in "
                "the following state: Pending"
            )
        if fn.latest.last_update_status == UpdateStatus.IN_PROGRESS:
            raise ResourceConflictException(
                f"The operation cannot be performed at this time. An update is in progress "
                f"for resource: {fn.arn}"
            )
        return Function.from_record(fn.to_record())

    async def update_code(
        self, scope: Scope, name: str, code: CodeInput, publish: bool, revision_id: str | None
    ) -> Function:
        fn, _ = self.resolve(scope, name)
        self._updatable(fn, revision_id)
        package = await self._package(scope, code)
        new = self._updatable(self.find(scope, fn.name), revision_id)
        latest = new.latest
        latest.code_sha256, latest.code_size, latest.code_hex = (
            package.sha256, package.size, package.hex,
        )  # fmt: skip
        self._touched(latest)
        if publish:
            new = self._with_version(new, "")
        self.commit(new)
        self._notify(new.arn)
        self._settle_later(new.arn)
        return new

    def update_config(self, scope: Scope, name: str, change: ConfigChange) -> Function:
        fn, _ = self.resolve(scope, name)
        new = self._updatable(fn, change.revision_id)
        latest = new.latest
        if change.runtime is not None:
            latest.runtime = validation.check_runtime(change.runtime)
        if change.handler is not None or change.runtime is not None:
            latest.handler = validation.check_handler(
                latest.runtime, change.handler if change.handler is not None else latest.handler
            )
        if change.environment is not None:
            latest.environment = validation.check_environment(change.environment)
        if change.role is not None:
            if self.check_role is not None:
                self.check_role(scope.account_id, change.role)
            latest.role = change.role
        for attr in ("description", "timeout", "memory_size", "ephemeral_storage"):
            value = getattr(change, attr)
            if value is not None:
                setattr(latest, attr, value)
        self._touched(latest)
        self.commit(new)
        self._notify(new.arn)
        self._settle_later(new.arn)
        return new

    def _touched(self, latest: Config) -> None:
        latest.last_modified = self.clock.now()
        latest.revision_id = new_uuid()
        latest.last_update_status = UpdateStatus.IN_PROGRESS
        latest.last_update_reason = "The function is being updated."

    def _with_version(self, fn: Function, description: str) -> Function:
        number = str(fn.last_version + 1)
        snapshot = replace(
            fn.latest, version=number, description=description or fn.latest.description,
            environment=dict(fn.latest.environment), revision_id=new_uuid(),
            last_modified=self.clock.now(),
        )  # fmt: skip
        fn.versions[number] = snapshot
        fn.last_version += 1
        return fn

    def publish_version(
        self, scope: Scope, name: str, code_sha256: str | None, description: str,
        revision_id: str | None,
    ) -> tuple[Function, Config]:  # fmt: skip
        fn, _ = self.resolve(scope, name)
        new = self._updatable(fn, revision_id)
        if code_sha256 is not None and code_sha256 != new.latest.code_sha256:
            raise InvalidParameterValueException(
                f"CodeSHA256 ({code_sha256}) is different from current CodeSHA256 in "
                f"$LATEST ({new.latest.code_sha256}). Please try again with the CodeSHA256 "
                "in $LATEST."
            )
        last = new.versions.get(str(new.last_version))
        if last is not None and _same(last, new.latest):
            return fn, last  # Lambda publishes nothing new when nothing changed
        new = self._with_version(new, description)
        self.commit(new)
        return new, new.versions[str(new.last_version)]

    def delete(self, scope: Scope, name: str, qualifier: str | None) -> None:
        fn, qualifier = self.resolve(scope, name, qualifier)
        if qualifier is None:
            self.store.delete(KIND, fn.arn)
            del self.functions[fn.arn]
            self._notify(fn.arn)
            return
        if qualifier == LATEST:
            raise InvalidParameterValueException(
                "$LATEST version cannot be deleted without deleting the function."
            )
        if qualifier not in fn.versions:
            raise ResourceNotFoundException(
                f"Function not found: {function_arn(fn.account_id, fn.region, fn.name, qualifier)}"
            )
        using = [a.name for a in fn.aliases.values()
                 if a.function_version == qualifier or qualifier in a.weights]  # fmt: skip
        if using:
            raise ResourceConflictException(
                f"Unable to delete version because the following aliases reference it: {using}"
            )
        new = Function.from_record(fn.to_record())
        del new.versions[qualifier]
        new.policies.pop(qualifier, None)
        self.commit(new)
        self._notify(fn.arn)

    def versions(self, fn: Function) -> list[Config]:
        return [fn.latest, *sorted(fn.versions.values(), key=lambda c: int(c.version))]

    def put_concurrency(self, scope: Scope, name: str, value: int | None) -> Function:
        fn, _ = self.resolve(scope, name)
        new = Function.from_record(fn.to_record())
        new.reserved_concurrency = value
        self.commit(new)
        return new

    def tag(self, fn: Function, tags: dict[str, str], remove: list[str]) -> None:
        new = Function.from_record(fn.to_record())
        new.tags.update(tags)
        for key in remove:
            new.tags.pop(key, None)
        self.commit(new)


def _same(a: Config, b: Config) -> bool:
    keys = ("runtime", "handler", "role", "code_sha256", "timeout", "memory_size",
            "environment", "ephemeral_storage", "description")  # fmt: skip
    return all(getattr(a, k) == getattr(b, k) for k in keys)
