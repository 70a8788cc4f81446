"""What every channel is: the :class:`Channel` protocol and the one :class:`Report` type.

A *channel* is one way of hiding bytes in a photo: where the bits go (pixel samples,
colour-flow latents, low-frequency luminance slots, JPEG coefficients), how a frame of the
payload container (:mod:`stegnet.payload.container`: header, Reed-Solomon, CRC32 or AEAD,
key-seeded positions) is written there, and how it is read back. Every channel module in
:mod:`stegnet.channels` defines one object that satisfies :class:`Channel`; the ordered
registry (:mod:`stegnet.channels.registry`) lists them.

Covers and stegos are what the channel's ``medium`` says:

* ``"pixels"``: ``(H, W, 3)`` uint8 RGB arrays, values 0-255; the stego is written as an
  8-bit PNG (lossless) and read back bit-exact;
* ``"jpeg"``: a :class:`stegnet.jpegio.JpegCover` (the file's quantised DCT coefficients,
  tables and markers); the stego is written as a JPEG with the cover's tables.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

Progress = Callable[[int, int], None] | None


@dataclass
class Report:
    """What one embedding did, measured on the stego as it will be written.

    ``stego``: the stego in the channel's medium (see the module docstring).
    ``mode``: how the channel embedded (its name, or the colour flow's ``sparse`` /
    ``full``). ``channel_bits``: channel positions the frame used; ``raw_bit_errors``: frame
    bits that read wrong in the stego as written, before error correction; ``nsym``:
    Reed-Solomon parity bytes per codeword; ``decodable``: the embedder's own extraction
    gave the payload back. ``details``: channel-specific measurements (the flow's
    ``temperature`` and ``latents``, the robust channel's ``min_margin``, ``positions``...).
    """

    stego: Any
    channel: str
    mode: str
    channel_bits: int
    raw_bit_errors: int
    nsym: int
    decodable: bool = True
    model: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def raw_ber(self) -> float:
        """Share of the frame's channel bits that read wrong in the stego as written."""
        return self.raw_bit_errors / max(1, self.channel_bits)


@runtime_checkable
class Channel(Protocol):
    """One way of hiding bytes (see the module docstring).

    Attributes: ``name`` (the one name: ``--channel``, JSON ``channel``, the zoo task of
    its network), ``summary`` (one line), ``survives`` (what the stego survives, one
    line), ``medium`` (``"pixels"`` or ``"jpeg"``), ``model_task`` (the zoo task of its
    network, None if it uses none), ``options`` (the embed options it takes besides the
    key, e.g. the flow's ``("flow_mode", "temperature")``), ``min_cover_side`` /
    ``min_stego_side`` (pixels).
    """

    name: str
    summary: str
    survives: str
    medium: str
    model_task: str | None
    options: tuple[str, ...]
    min_cover_side: int
    min_stego_side: int

    def capacity(self, cover: Any, keyed: bool, model: Any = None, **options: Any) -> int:
        """Net payload bytes ``cover`` carries (after framing and error correction)."""
        ...

    def embed(self, cover: Any, payload: bytes, key: bytes | None, model: Any = None,
              progress: Progress = None, **options: Any) -> Report:
        """Hide ``payload``; PayloadTooLarge (stating the capacity) if it does not fit."""
        ...

    def extract(self, stego: Any, key: bytes | None, model: Any = None) -> bytes:
        """The payload; PayloadNotFound / WrongKeyOrCorrupted, never garbage."""
        ...
