"""SQS operations as the front door calls them: queue URLs and ListQueues pages."""

from __future__ import annotations

from dockyard.services.sqs import Sqs, provider
from tests.unit.services.calls import ACCOUNT, caller


def test_list_queues_pages_and_urls_name_the_host(sqs: Sqs) -> None:
    call = caller(provider(sqs, "https"))
    for i in range(5):
        call("CreateQueue", QueueName=f"q{i}")
    first = call("ListQueues", MaxResults=2)
    assert first["QueueUrls"] == [
        f"https://localhost/{ACCOUNT}/q0",
        f"https://localhost/{ACCOUNT}/q1",
    ]
    rest = call("ListQueues", MaxResults=10, NextToken=first["NextToken"])
    assert [u.rsplit("/", 1)[1] for u in rest["QueueUrls"]] == ["q2", "q3", "q4"]
    assert "NextToken" not in rest
    assert call("ListQueues", QueueNamePrefix="q4")["QueueUrls"] == [
        f"https://localhost/{ACCOUNT}/q4"
    ]
    assert call("ListQueues", QueueNamePrefix="none") == {}
