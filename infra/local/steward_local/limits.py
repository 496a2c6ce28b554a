"""Service limits AWS enforces and moto does not, checked before moto sees a request.

moto already refuses DynamoDB items over 400 KB and transactions over 100 items, so those are
left to it. Here:

- DynamoDB: a BatchWriteItem of more than 25 requests, or a BatchGetItem of more than 100 keys,
  is refused with `ValidationException`, as DynamoDB does (moto takes them);
- SQS: a message body with its attributes over the queue's MaximumMessageSize (256 KiB unless the
  queue says otherwise) is refused with `InvalidParameterValue`, as SQS does;
- SES v2: a raw message over 40 MB (SES v2's limit, counted as the MIME message) is refused with
  `MessageRejected`.
"""

from __future__ import annotations

import base64
import json
from urllib.parse import parse_qs

SQS_DEFAULT_MAX_BYTES = 256 * 1024
SES_V2_MAX_MESSAGE_BYTES = 40 * 1024 * 1024


class Limits:
    def __init__(self, queue_limits: dict[str, int]):
        # Queue name -> MaximumMessageSize, from the template.
        self.queue_limits = queue_limits

    def check(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[str, list, bytes] | None:
        target = headers.get("x-amz-target", "")
        if target in ("DynamoDB_20120810.BatchWriteItem", "DynamoDB_20120810.BatchGetItem"):
            return self._dynamodb_batch(target.rsplit(".", 1)[1], json.loads(body or b"{}"))
        if target.startswith("AmazonSQS.SendMessage"):
            return self._sqs(json.loads(body or b"{}"), target.endswith("Batch"))
        params = {k: v[0] for k, v in parse_qs(body.decode(errors="replace")).items()} if not target else {}
        if params.get("Action") == "SendMessage":
            return self._sqs({"QueueUrl": params.get("QueueUrl", ""), "MessageBody": params.get("MessageBody", "")}, False)
        if params.get("Action") == "SendMessageBatch":
            entries = []
            for n in range(1, 11):
                if f"SendMessageBatchRequestEntry.{n}.MessageBody" in params:
                    entries.append({"MessageBody": params[f"SendMessageBatchRequestEntry.{n}.MessageBody"]})
            return self._sqs({"QueueUrl": params.get("QueueUrl", ""), "Entries": entries}, True)
        if method == "POST" and path.startswith("/v2/email/outbound-emails"):
            raw = json.loads(body or b"{}").get("Content", {}).get("Raw", {}).get("Data")
            if raw and len(base64.b64decode(raw)) > SES_V2_MAX_MESSAGE_BYTES:
                message = json.dumps({"message": "Message length is more than 40 MB"}).encode()
                return "400 Bad Request", [("Content-Type", "application/json"), ("x-amzn-ErrorType", "MessageRejected")], message
        return None

    def _dynamodb_batch(self, operation: str, request: dict):
        items = request.get("RequestItems", {})
        if operation == "BatchWriteItem":
            count, limit = sum(len(entries) for entries in items.values()), 25
        else:
            count, limit = sum(len(entries.get("Keys", [])) for entries in items.values()), 100
        if count <= limit:
            return None
        body = json.dumps({
            "__type": "com.amazon.coral.validate#ValidationException",
            "message": f"Too many items requested for the {operation} call",
        }).encode()
        return "400 Bad Request", [("Content-Type", "application/x-amz-json-1.0")], body

    def _sqs(self, request: dict, batch: bool):
        name = request.get("QueueUrl", "").rstrip("/").rsplit("/", 1)[-1]
        limit = self.queue_limits.get(name, SQS_DEFAULT_MAX_BYTES)
        entries = request.get("Entries", []) if batch else [request]
        total = 0
        for entry in entries:
            size = len(entry.get("MessageBody", "").encode())
            for key, attribute in (entry.get("MessageAttributes") or {}).items():
                size += len(key.encode()) + len(attribute.get("DataType", "").encode())
                size += len((attribute.get("StringValue") or attribute.get("BinaryValue") or "").encode())
            total += size
            if batch and total > SQS_DEFAULT_MAX_BYTES and size <= limit:
                # A batch's messages together stay within SQS's own maximum.
                body = json.dumps({
                    "__type": "com.amazonaws.sqs#BatchRequestTooLong",
                    "message": "Batch requests cannot be longer than 262144 bytes.",
                }).encode()
                return "400 Bad Request", [("Content-Type", "application/x-amz-json-1.0"), ("x-amzn-query-error", "AWS.SimpleQueueService.BatchRequestTooLong;Sender")], body
            if size > limit:
                body = json.dumps({
                    "__type": "com.amazonaws.sqs#InvalidParameterValue",
                    "message": f"One or more parameters are invalid. Reason: Message must be shorter than {limit} bytes.",
                }).encode()
                return "400 Bad Request", [("Content-Type", "application/x-amz-json-1.0"), ("x-amzn-query-error", "InvalidParameterValue;Sender")], body
        return None
