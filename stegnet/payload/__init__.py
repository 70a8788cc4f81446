"""Payload framing: bytes <-> error-corrected, optionally encrypted channel bits."""

from stegnet.payload.container import (
    CODEWORD_BITS,
    DEFAULT_NSYM,
    MAGIC,
    RS_N,
    capacity_bytes,
    header_len,
    pack,
    unpack,
)

__all__ = [
    "CODEWORD_BITS",
    "DEFAULT_NSYM",
    "MAGIC",
    "RS_N",
    "capacity_bytes",
    "header_len",
    "pack",
    "unpack",
]
