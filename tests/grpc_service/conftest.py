"""Shared fixtures of the gRPC service tests: scorers and a real server on 127.0.0.1.

(The folder is not named ``tests/grpc``: ruff, with ``tests`` among its source roots, would
then take the ``grpc`` library for a first-party module everywhere.)
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from grpc_helpers import running_server

from bastion.service.grpc.v1 import waf_pb2_grpc as pb_grpc
from bastion.waf import load_scorer
from bastion.waf.scorer import Scorer


@pytest.fixture(scope="session")
def scorer() -> Scorer:
    """The scorer the servers under test use."""
    return load_scorer()


@pytest.fixture(scope="session")
def reference() -> Scorer:
    """A second scorer for expected results, so they do not depend on the server's cache."""
    return load_scorer()


@pytest.fixture(scope="module")
def stub(scorer: Scorer) -> Iterator[pb_grpc.WafScoringStub]:
    with running_server(scorer) as s:
        yield s
