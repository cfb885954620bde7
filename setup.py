"""Builds the optional C accelerator for the WAF featurizer; the package runs without it."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "bastion.waf._fastpath",
            sources=["src/bastion/waf/_fastpath.c"],
            extra_compile_args=["-O3", "-std=c99"],
            optional=True,
        )
    ]
)
