"""Code generated from proto/bastion/v1/waf.proto by scripts/gen_proto.sh."""
