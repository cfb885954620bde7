"""bastion's network service: HTTP (ASGI) and gRPC."""
