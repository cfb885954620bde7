"""Builds the optional C accelerator for the WAF scorer; the package runs without it."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "bastion.waf._fastpath",
            sources=["src/bastion/waf/_fastpath.c"],
            # No FMA contraction: the C forward pass rounds like the NumPy reference,
            # whichever compiler and target builds it.
            extra_compile_args=["-O3", "-std=c99", "-ffp-contract=off"],
            optional=True,
        )
    ]
)
