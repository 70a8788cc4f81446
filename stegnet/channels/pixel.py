"""The ``pixel`` channel: cost-adaptive +-1 in the pixel samples, the default of ``embed-bits``.

The channel is every sample of the 8-bit RGB image, in H, W, 3 order (``3 H W``
positions). The frame is :mod:`stegnet.payload.exact`'s (magic :data:`MAGIC`, key-seeded
positions, no Reed-Solomon: an 8-bit PNG carries the samples exactly), its body coded
ternary: a sample's least significant bit and its second bit are two syndrome-trellis codes
over every sample, so the embedder picks the cheapest samples to change *and* the
direction (+1 or -1) carries information (only +1 at 0 and only -1 at 255). At low payloads
it makes one change per several frame bits. The cost of changing a sample is HILL's (Li et
al. 2014, :func:`stegnet.costs.hill_costs`): small in texture, large in smooth areas, where
a change stands out to a steganalyser. The extractor only computes syndromes; no network is
involved (the embedder still decodes its own stego before returning it). Stegos of the
first frame format (``SGN5``: parity coding, Reed-Solomon parity) are still read.

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

from typing import Any

import numpy as np

from stegnet.channels.base import Progress, Report
from stegnet.costs import hill_costs
from stegnet.errors import PayloadError, StegnetError, more_telling
from stegnet.payload import container, exact, ternary

MAGIC = b"SGN8"
"""Frame magic of the channel's frames (:mod:`stegnet.payload.exact`: compact header,
ternary codes over every sample). Frames of the first format (``SGN5``:
:data:`stegnet.payload.container.PIXEL`, parity coding, Reed-Solomon parity) are still
read."""


def is_exact_grey(image: np.ndarray) -> bool:
    """True when R == G == B in every pixel of ``image`` (H, W, 3 uint8)."""
    return bool((image[..., 0] == image[..., 1]).all() and (image[..., 1] == image[..., 2]).all())


def channel_bits(height: int, width: int, grey: bool = False) -> int:
    """Channel bits of an image of that size: one per sample (per pixel if ``grey``)."""
    return (1 if grey else 3) * height * width


def capacity_bytes(height: int, width: int, keyed: bool, grey: bool = False) -> int:
    """Net payload bytes an image of that size carries (the same for every photo)."""
    return exact.capacity_bytes(channel_bits(height, width, grey), keyed)


def embed(cover: np.ndarray, payload: bytes, key: bytes | None) -> Report:
    """Embed ``payload`` in ``cover`` (H, W, 3 uint8) by +-1 changes at the cheapest samples.

    Returns the report with the stego (H, W, 3 uint8; ``raw_bit_errors`` the frame's wrong
    syndromes after a decode of the stego, i.e. 0). Raises PayloadTooLarge (stating the
    capacity) if the payload does not fit.
    """
    grey = is_exact_grey(cover)
    planes = np.ascontiguousarray(cover[..., :1]) if grey else cover
    samples = planes.reshape(-1).astype(np.int16)
    rho = hill_costs(cover)[..., :planes.shape[2]].reshape(-1).astype(np.float32)
    rho_plus, rho_minus = ternary.directed_costs(rho, samples, 0, 255)
    change, coding = exact.embed(samples, rho_plus, rho_minus, payload, key, MAGIC)
    changed = (samples + change).astype(np.uint8).reshape(planes.shape)
    stego = np.repeat(changed, 3, axis=2) if grey else changed
    try:
        decodable = extract(stego, key) == payload
    except PayloadError:
        decodable = False
    return Report(stego, "pixel", "pixel", int(samples.size), 0 if decodable else -1, 0,
                  decodable, details={"grey": grey, "samples": int(samples.size),
                                      "changed_samples": int(np.count_nonzero(change)),
                                      "layer2_bits": coding["layer2_bits"],
                                      "code_height": coding["code_height"]})


def extract(stego: np.ndarray, key: bytes | None) -> bytes:
    """The payload of a pixel-channel stego (H, W, 3 uint8); PayloadNotFound /
    WrongKeyOrCorrupted if there is none (or not for this key). A grey stego's grey plane
    is read first, then all samples."""
    stego = np.ascontiguousarray(stego)
    failure: PayloadError | None = None
    planes = [stego[..., 0].reshape(-1)] if is_exact_grey(stego) else []
    for plane in (*planes, stego.reshape(-1)):
        try:
            return exact.extract(plane, key, MAGIC)
        except PayloadError as error:
            failure = more_telling(failure, error)
    for plane in (*planes, stego.reshape(-1)):  # the first frame format (SGN5)
        try:
            return container.unpack((plane & 1).astype(np.uint8), None, key, container.PIXEL)
        except PayloadError as error:
            failure = more_telling(failure, error)
    assert failure is not None
    raise failure


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
