"""S3 lifecycle expiration, on a server whose clock runs fast (--time-scale)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.integration.conftest import make_client
from tests.support.server import DockyardProcess
from tests.support.waiting import wait_for

# One day of the server's clock lasts about 4 s here.
TIME_SCALE = 20000


def test_expiration_and_abandoned_uploads(fresh_server: Callable[..., DockyardProcess]) -> None:
    server = fresh_server("--no-local-agent", "--time-scale", str(TIME_SCALE))
    s3: Any = make_client("s3", server.endpoint)
    s3.create_bucket(Bucket="lifecycle")
    for key in ("tmp/a", "tmp/b", "keep/c"):
        s3.put_object(Bucket="lifecycle", Key=key, Body=b"x")
    upload_id = s3.create_multipart_upload(Bucket="lifecycle", Key="tmp/upload")["UploadId"]
    s3.put_bucket_lifecycle_configuration(
        Bucket="lifecycle",
        LifecycleConfiguration={"Rules": [
            {"ID": "tmp", "Status": "Enabled", "Filter": {"Prefix": "tmp/"},
             "Expiration": {"Days": 1},
             "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}},
            {"ID": "off", "Status": "Disabled", "Filter": {"Prefix": "keep/"},
             "Expiration": {"Days": 1}},
        ]},
    )  # fmt: skip

    def keys() -> list[str]:
        return [o["Key"] for o in s3.list_objects_v2(Bucket="lifecycle").get("Contents", [])]

    wait_for(lambda: keys() == ["keep/c"], timeout=60, what="tmp/ objects to expire")
    uploads = s3.list_multipart_uploads(Bucket="lifecycle").get("Uploads", [])
    assert upload_id not in [u["UploadId"] for u in uploads]
