"""Keys: what a user types (``--key``), a key file, or bytes, resolved to key bytes once.

A key both encrypts/authenticates an ``embed-bits`` payload and seeds where its bits go;
for ``hide`` it scrambles the secret. Keys are bytes; a text key is its UTF-8 encoding,
a key file its content without one trailing newline (``\\n`` or ``\\r\\n``).
"""

from __future__ import annotations

import os

from stegnet.errors import UsageError

KeyLike = str | bytes | None


def as_key(key: KeyLike) -> bytes | None:
    """``str`` (UTF-8) or ``bytes`` -> key bytes; None stays None. UsageError if empty."""
    if key is None:
        return None
    data = key.encode("utf-8") if isinstance(key, str) else bytes(key)
    if not data:
        raise UsageError("the key is empty")
    return data


def read_key(key: str | None, key_file: str | os.PathLike | None) -> bytes | None:
    """The key given as ``--key TEXT`` or ``--key-file PATH`` (at most one of them)."""
    if key is not None and key_file is not None:
        raise UsageError("give either --key or --key-file, not both")
    if key_file is not None:
        from stegnet.imageio import read_bytes

        data = read_bytes(key_file)
        if data.endswith(b"\n"):
            data = data[:-1]
            if data.endswith(b"\r"):
                data = data[:-1]
        if not data:
            raise UsageError(f"{key_file}: key file is empty")
        return data
    if key is not None and not key:
        raise UsageError("--key is empty")
    return as_key(key)
