"""Kept for the imports of `Periodic` that predate `btkernel.loops`, where it now lives with the other loops."""

from btkernel.loops import Periodic

__all__ = ["Periodic"]
