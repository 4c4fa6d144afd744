"""Indexing Functions: index_select and gather."""

from __future__ import annotations


def index_select(*args, **kwargs):
    raise NotImplementedError("[index_select] is not implemented yet")


def gather(*args, **kwargs):
    raise NotImplementedError("[gather] is not implemented yet")
