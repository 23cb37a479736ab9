"""The library's tests use the community's fixtures: the real Hugging Face papers, a clock, an app."""

from __future__ import annotations

from tests.community.conftest import client, clock, papers

__all__ = ["client", "clock", "papers"]
