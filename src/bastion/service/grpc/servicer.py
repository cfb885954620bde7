"""The ``bastion.v1.WafScoring`` service: unary, batch and bidirectional-stream scoring."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import NoReturn

import grpc

from bastion.service.grpc.batching import BatchQueue
from bastion.service.grpc.convert import error_result, to_http_request, to_score_result
from bastion.service.grpc.v1 import waf_pb2 as pb
from bastion.service.grpc.v1 import waf_pb2_grpc as pb_grpc
from bastion.waf.request import HttpRequest, RequestFormatError
from bastion.waf.scorer import Scorer

#: Decides whether a caller may score: gets the bearer token (None when there is none).
Authorize = Callable[[str | None], bool]

#: Queued (not yet scored) messages per stream, by count and by serialized size.
STREAM_QUEUE_ITEMS = 256
STREAM_QUEUE_BYTES = 8 << 20


def bearer_token(metadata: Iterable[tuple[str, str | bytes]] | None) -> str | None:
    """The token of an ``authorization: Bearer <token>`` metadata entry, else None."""
    for key, value in metadata or ():
        if key == "authorization" and isinstance(value, str):
            scheme, _, token = value.strip().partition(" ")
            token = token.strip()
            if scheme.lower() == "bearer" and token:
                return token
    return None


def _abort(context: grpc.ServicerContext, code: grpc.StatusCode, message: str) -> NoReturn:
    context.abort(code, message)
    raise AssertionError("grpc context.abort returned")  # pragma: no cover


class WafScoringServicer(pb_grpc.WafScoringServicer):
    """Scores with one :class:`Scorer`; calls run on the server's thread pool."""

    def __init__(
        self,
        scorer: Scorer,
        *,
        authorize: Authorize | None = None,
        max_batch: int = 1000,
        stream_batch: int = 64,
    ) -> None:
        if max_batch < 1 or stream_batch < 1:
            raise ValueError("max_batch and stream_batch must be positive")
        self.scorer = scorer
        self.authorize = authorize
        self.max_batch = max_batch
        self.stream_batch = stream_batch
        self.model_version = scorer.version

    def _check_caller(self, context: grpc.ServicerContext) -> None:
        if self.authorize is None:
            return
        if not self.authorize(bearer_token(context.invocation_metadata())):
            _abort(
                context,
                grpc.StatusCode.UNAUTHENTICATED,
                "a valid API token is required: send metadata 'authorization: Bearer <token>'",
            )

    def score_items(self, items: Sequence[pb.ScoreRequest]) -> list[pb.ScoreResult]:
        """Results in the order of ``items``: the valid ones scored in at most two batch
        calls (with and without explanations), the others as per-item errors."""
        results: list[pb.ScoreResult | None] = [None] * len(items)
        groups: dict[bool, list[tuple[int, HttpRequest]]] = {False: [], True: []}
        for i, item in enumerate(items):
            try:
                groups[item.explain].append((i, to_http_request(item.request)))
            except RequestFormatError as exc:
                results[i] = error_result(item.id, str(exc), self.model_version)
        for explain, group in groups.items():
            if not group:
                continue
            scored = self.scorer.score_batch([req for _, req in group], explain=explain)
            for (i, _), result in zip(group, scored, strict=True):
                results[i] = to_score_result(items[i].id, result, self.model_version)
        return [r for r in results if r is not None]

    def Score(self, request: pb.ScoreRequest, context: grpc.ServicerContext) -> pb.ScoreResult:
        self._check_caller(context)
        try:
            http = to_http_request(request.request)
        except RequestFormatError as exc:
            _abort(context, grpc.StatusCode.INVALID_ARGUMENT, f"request: {exc}")
        result = self.scorer.score(http, explain=request.explain)
        return to_score_result(request.id, result, self.model_version)

    def ScoreBatch(
        self, request: pb.ScoreBatchRequest, context: grpc.ServicerContext
    ) -> pb.ScoreBatchResponse:
        self._check_caller(context)
        n = len(request.requests)
        if n > self.max_batch:
            _abort(
                context,
                grpc.StatusCode.INVALID_ARGUMENT,
                f"batch of {n} requests is larger than the limit of {self.max_batch}; "
                "split it or use ScoreStream",
            )
        return pb.ScoreBatchResponse(results=self.score_items(request.requests))

    def ScoreStream(
        self, request_iterator: Iterator[pb.ScoreRequest], context: grpc.ServicerContext
    ) -> Iterator[pb.ScoreResult]:
        self._check_caller(context)
        # A sync server can only block on the next message, so a reader thread moves
        # messages into a bounded queue and this (the handler's) thread scores whatever
        # is queued: full batches when the client pipelines, one when it waits.
        queue: BatchQueue[pb.ScoreRequest] = BatchQueue(STREAM_QUEUE_ITEMS, STREAM_QUEUE_BYTES)
        reader = _StreamReader(request_iterator, queue)
        reader.start()
        try:
            while batch := queue.get_batch(self.stream_batch):
                yield from self.score_items(batch)
        finally:
            queue.close()
        if reader.error is not None:
            message = f"reading the stream failed: {reader.error!r}"
            _abort(context, grpc.StatusCode.INTERNAL, message)


class _StreamReader(threading.Thread):
    """Moves a call's incoming messages into its queue until the client half-closes."""

    def __init__(
        self, requests: Iterator[pb.ScoreRequest], queue: BatchQueue[pb.ScoreRequest]
    ) -> None:
        super().__init__(name="grpc-stream-reader", daemon=True)
        self.requests = requests
        self.queue = queue
        self.error: Exception | None = None

    def run(self) -> None:
        try:
            for msg in self.requests:
                if not self.queue.put(msg, msg.ByteSize()):
                    return
        except grpc.RpcError:
            pass  # the call was cancelled or timed out: the handler ends with it
        except Exception as exc:
            self.error = exc
        finally:
            self.queue.finish()
