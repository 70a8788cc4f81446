"""The ``pixel`` channel: cost-adaptive +-1 in the pixel samples, the default of ``embed-bits``.

The channel is the least significant bit of every sample of the 8-bit RGB image, in
H, W, 3 order (``3 H W`` bits). The frame is syndrome-coded over those bits
(:data:`stegnet.payload.container.PIXEL`: up to 128 samples per frame bit, key-seeded
positions), so the embedder picks the cheapest samples to change and carries several frame
bits per change at low payloads; a change is +1 or -1 at random (only +1 at 0, only -1
at 255), which flips the bit either way. The cost of changing a sample is HILL's (Li et
al. 2014, :func:`stegnet.costs.hill_costs`): small in texture, large in smooth areas, where a change
stands out to a steganalyser. The extractor reads the bits and computes syndromes; no
network is involved, and an 8-bit PNG carries the bits exactly, so one solve suffices
(the embedder still decodes its own stego before returning it).

A grey cover (R == G == B everywhere) is embedded in its one grey plane (``H W`` bits) and
each change is made to R, G and B alike, so the stego stays grey; the extractor reads a
grey stego's grey plane first.

Why not the colour flow's latents (:mod:`stegnet.channels.flow`): flipping one latent's sign
changes a 2x2 block in all three channels by a level or more, and only a sign far enough
past zero survives rounding. At 0.05 bit/pixel that stego was 56 dB and the strong CNN
caught it 91 % of the time, against 75 dB and 60 % for HILL
(``results/detection-vs-payload``). Here a change is one level in one sample.
"""

from __future__ import annotations

import secrets as _secrets
from typing import Any

import numpy as np

from stegnet.channels.base import Progress, Report
from stegnet.costs import hill_costs
from stegnet.errors import PayloadError, StegnetError, more_telling
from stegnet.payload import container

NSYM = 8
"""Reed-Solomon parity bytes per codeword: the channel is exact after a PNG, so parity
only pads against a few edited pixels (CRC32 or the AEAD tag rejects anything else)."""


def is_exact_grey(image: np.ndarray) -> bool:
    """True when R == G == B in every pixel of ``image`` (H, W, 3 uint8)."""
    return bool((image[..., 0] == image[..., 1]).all() and (image[..., 1] == image[..., 2]).all())


def channel_bits(height: int, width: int, grey: bool = False) -> int:
    """Channel bits of an image of that size: one per sample (per pixel if ``grey``)."""
    return (1 if grey else 3) * height * width


def capacity_bytes(height: int, width: int, keyed: bool, grey: bool = False) -> int:
    """Net payload bytes an image of that size carries (the same for every photo)."""
    return container.capacity_bytes(channel_bits(height, width, grey), keyed, NSYM,
                                    container.PIXEL)


def embed(cover: np.ndarray, payload: bytes, key: bytes | None) -> Report:
    """Embed ``payload`` in ``cover`` (H, W, 3 uint8) by +-1 changes at the cheapest samples.

    Returns the report with the stego (H, W, 3 uint8; ``raw_bit_errors`` the frame's wrong
    syndromes after a decode of the stego, i.e. 0). Raises PayloadTooLarge (stating the
    capacity) if the payload does not fit.
    """
    grey = is_exact_grey(cover)
    planes = np.ascontiguousarray(cover[..., :1]) if grey else cover
    n_bits = channel_bits(*cover.shape[:2], grey)
    frame = container.syndrome_frame(payload, n_bits, key, NSYM, container.PIXEL)
    assert frame is not None  # the pixel layout's capacity already requires the code
    samples = planes.reshape(-1)
    lsb = samples & 1
    positions = frame.positions
    wanted = frame.solve(lsb, hill_costs(cover)[..., :planes.shape[2]].reshape(-1))
    change = positions[wanted != lsb[positions]]
    step = np.where(np.random.default_rng(_secrets.randbits(64)).random(change.size) < 0.5,
                    -1, 1)
    values = samples[change].astype(np.int16)
    step = np.where(values == 0, 1, np.where(values == 255, -1, step))
    changed = samples.copy()
    changed[change] = (values + step).astype(np.uint8)
    changed = changed.reshape(planes.shape)
    stego = np.repeat(changed, 3, axis=2) if grey else changed
    errors = frame.errors(changed.reshape(-1) & 1)
    decodable = errors == 0 and extract(stego, key) == payload
    return Report(stego, "pixel", "pixel", int(positions.size), errors, NSYM, decodable,
                  details={"grey": grey, "samples": n_bits})


def extract(stego: np.ndarray, key: bytes | None) -> bytes:
    """The payload of a pixel-channel stego (H, W, 3 uint8); PayloadNotFound /
    WrongKeyOrCorrupted if there is none (or not for this key). A grey stego's grey plane
    is read first, then all samples."""
    stego = np.ascontiguousarray(stego)
    first: PayloadError | None = None
    if is_exact_grey(stego):
        try:
            return container.unpack((stego[..., 0].reshape(-1) & 1).astype(np.uint8), None,
                                    key, container.PIXEL)
        except PayloadError as error:
            first = error
    bits = (stego.reshape(-1) & 1).astype(np.uint8)
    try:
        return container.unpack(bits, None, key, container.PIXEL)
    except PayloadError as error:
        raise more_telling(first, error) from None


class PixelChannel:
    """The ``pixel`` channel (see the module docstring): no network, exact after a PNG."""

    name = "pixel"
    summary = ("+-1 on single pixel samples where texture hides it (HILL costs, "
               "syndrome-trellis coded); the default for PNG and other lossless outputs")
    survives = "lossless files only (PNG, TIFF, WebP lossless); any re-compression destroys it"
    medium = "pixels"
    model_task = None
    options: tuple[str, ...] = ()
    min_cover_side = 32
    min_stego_side = 32

    def capacity(self, cover: np.ndarray, keyed: bool, model: Any = None,
                 **options: Any) -> int:
        """Net payload bytes of ``cover`` (H, W, 3 uint8): depends only on its size (and
        whether it is exactly grey)."""
        return capacity_bytes(*cover.shape[:2], keyed, is_exact_grey(cover))

    def embed(self, cover: np.ndarray, payload: bytes, key: bytes | None, model: Any = None,
              progress: Progress = None, **options: Any) -> Report:
        """See :func:`embed`; StegnetError if the stego did not decode (a bug: the channel
        is exact)."""
        report = embed(cover, payload, key)
        if not report.decodable:
            raise StegnetError("the pixel-channel stego did not decode; please report this")
        return report

    def extract(self, stego: np.ndarray, key: bytes | None, model: Any = None) -> bytes:
        """See :func:`extract`."""
        return extract(stego, key)


CHANNEL = PixelChannel()
