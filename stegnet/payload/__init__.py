"""Payload framing: bytes <-> error-corrected, optionally encrypted channel bits."""

from stegnet.payload.container import *  # noqa: F403 - the public API, listed in __all__
from stegnet.payload.container import __all__  # noqa: F401
