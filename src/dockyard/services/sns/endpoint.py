"""What subscribers reach without credentials, under /_dockyard/sns/: the SubscribeURL
(`?Action=ConfirmSubscription&TopicArn=...&Token=...`; the token is the secret), the
UnsubscribeURL (`?Action=Unsubscribe&SubscriptionArn=...`) and the signing certificate
(`SimpleNotificationService-<id>.pem`), as SNS serves them."""

from __future__ import annotations

import logging
import urllib.parse
from xml.sax.saxutils import escape

from dockyard.api.asgi import Receive, Scope, Send
from dockyard.core.errors import ServiceError
from dockyard.core.ids import new_uuid
from dockyard.services.sns.envelope import PATH
from dockyard.services.sns.service import Sns

log = logging.getLogger(__name__)

PREFIX = PATH.rstrip("/")
NS = "http://sns.amazonaws.com/doc/2010-03-31/"


def _xml(action: str, result: str) -> bytes:
    body = (
        f'<?xml version="1.0"?>\n<{action}Response xmlns="{NS}">'
        f"<{action}Result>{result}</{action}Result>"
        f"<ResponseMetadata><RequestId>{new_uuid()}</RequestId></ResponseMetadata>"
        f"</{action}Response>"
    )
    return body.encode()


def _error(exc: ServiceError) -> bytes:
    return (
        f'<?xml version="1.0"?>\n<ErrorResponse xmlns="{NS}"><Error><Type>Sender</Type>'
        f"<Code>{escape(exc.code)}</Code><Message>{escape(exc.message)}</Message></Error>"
        f"<RequestId>{new_uuid()}</RequestId></ErrorResponse>"
    ).encode()


class SubscriberEndpoint:
    def __init__(self, sns: Sns) -> None:
        self.sns = sns

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        status, content_type, body = self.handle(
            scope["method"], scope["path"], scope.get("query_string", b"").decode("latin-1")
        )
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", content_type.encode()),
                                (b"content-length", str(len(body)).encode())]})  # fmt: skip
        await send({"type": "http.response.body", "body": body})

    def handle(self, method: str, path: str, query: str) -> tuple[int, str, bytes]:
        if method not in ("GET", "HEAD"):
            return 405, "text/plain", b"Method Not Allowed"
        signer = self.sns.deliveries.signer
        name = path.removeprefix(PREFIX).strip("/")
        if name:
            if signer is not None and name == signer.cert_name:
                return 200, "application/x-x509-ca-cert", signer.cert_pem
            return 404, "text/plain", b"Not Found"
        params = dict(urllib.parse.parse_qsl(query))
        action = params.get("Action", "")
        try:
            if action == "ConfirmSubscription":
                sub = self.sns.topics.confirm(params.get("TopicArn", ""), params.get("Token", ""))
                result = f"<SubscriptionArn>{escape(sub.arn)}</SubscriptionArn>"
                return 200, "text/xml", _xml(action, result)
            if action == "Unsubscribe":
                arn = params.get("SubscriptionArn", "")
                found = self.sns.topics.subscriptions.get(arn)
                if found is not None and found.authenticate_on_unsubscribe:
                    raise ServiceError(
                        "This subscription was confirmed with AuthenticateOnUnsubscribe: call "
                        "Unsubscribe with credentials to end it.",
                        code="AuthorizationError",
                        status=403,
                    )
                self.sns.topics.unsubscribe(arn)
                return 200, "text/xml", _xml(action, "")
        except ServiceError as exc:
            return exc.status, "text/xml", _error(exc)
        return 400, "text/xml", _error(ServiceError(f"Unknown action {action}",
                                                    code="InvalidAction"))  # fmt: skip
