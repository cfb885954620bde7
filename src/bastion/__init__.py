"""bastion: edge security and trust-and-safety platform."""

__version__ = "0.1.0"
