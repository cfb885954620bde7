"""gRPC scoring service: ``bastion.v1.WafScoring`` (unary, batch and bidirectional stream).

:func:`~bastion.service.grpc.server.build_server` makes a server for one process;
:func:`~bastion.service.grpc.server.serve` runs several such processes on one address.
The protocol is ``proto/bastion/v1/waf.proto``; its generated code is
:mod:`bastion.service.grpc.v1` (``scripts/gen_proto.sh``).
"""
