# Shim for tools that still call setup.py; the build is declared in pyproject.toml (flit).
from setuptools import setup

setup()
