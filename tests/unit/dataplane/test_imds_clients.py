"""The metadata service as the AWS SDK reads it: botocore's own IMDS fetchers (the ones boto3
and the AWS CLI use for instance role credentials and the region) against a real socket."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping

from botocore.utils import InstanceMetadataFetcher, InstanceMetadataRegionFetcher

from dockyard.core.clock import RealClock
from dockyard.dataplane.imds import ImdsServer
from tests.unit.dataplane.imds_fakes import CREDENTIALS, REQUIRED, VIEW, FakeMetadata


class FreshCredentials(FakeMetadata):
    async def role_credentials(self, instance_id: str) -> Mapping[str, str] | None:
        expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
        return {**CREDENTIALS, "Expiration": expires}


def test_botocore_reads_role_credentials_and_region_with_tokens_required() -> None:
    async def main() -> None:
        metadata = FreshCredentials()
        metadata.set(http_tokens=REQUIRED)
        server = ImdsServer(metadata, RealClock(), "127.0.0.1", 0)
        await server.start()
        base = f"http://127.0.0.1:{server.port}/"
        try:
            # As AWS_EC2_METADATA_SERVICE_ENDPOINT configures them.
            config = {"ec2_metadata_service_endpoint": base}
            fetcher = InstanceMetadataFetcher(timeout=5, env={}, config=config)
            credentials = await asyncio.to_thread(fetcher.retrieve_iam_role_credentials)
            region_fetcher = InstanceMetadataRegionFetcher(timeout=5, env={}, config=config)
            region = await asyncio.to_thread(region_fetcher.retrieve_region)
        finally:
            await server.stop()
        assert credentials["role_name"] == VIEW.role_name
        assert credentials["access_key"] == CREDENTIALS["AccessKeyId"]
        assert credentials["secret_key"] == CREDENTIALS["SecretAccessKey"]
        assert credentials["token"] == CREDENTIALS["Token"]
        assert region == VIEW.region

    asyncio.run(main())
