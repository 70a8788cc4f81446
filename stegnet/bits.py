"""Arbitrary bytes in the colour of a photo: the library API behind ``embed-bits``.

Images are numpy arrays HxWx3 uint8. Pipeline (see :mod:`stegnet.models.cinn`)::

    payload --container.pack--> n bits --signs--> z = sign * T * |e|, e ~ N(0, 1)
    z, cover --ColourFlow (reverse)--> stego colour --Lab->RGB--> 8-bit stego

    stego --RGB->Lab--ColourFlow (forward)--> z_hat --sign--> bits --unpack--> payload

One latent (one channel bit) per colour-detail coefficient: 6 per 2x2 pixel block,
i.e. 1.5 raw bits per pixel. The last row/column of an odd-sized cover is
copied unchanged and carries nothing. Images larger than :data:`TILE` are
processed in overlapping tiles (bounded memory); the few latents near seams that
the tiles disagree on are fixed by the refinement below or by the error correction.

Embedder-side refinement: the magnitudes ``|e|`` carry no information, so after
writing the 8-bit stego the embedder runs the extractor itself and, for every
latent whose sign did not survive rounding, redraws its magnitude as
``max(|e|, |e'|)`` with a fresh half-normal draw ``e'``, then synthesises again
(measured on a held-out photo: raw BER 3.5% -> 1.2% after 5 rounds, at a cost of
~1.8 dB PSNR; growing magnitudes faster made both worse through gamut clipping).
It stops once the extractor's own computation decodes the payload even without
the reliability hints extraction will use (a safety margin), and refuses (rather
than writing a stego that would not extract) if no round gets there.

Temperature ``T`` (:data:`DEFAULT_TEMPERATURE` = 0.8): magnitudes are drawn from a
half-normal scaled by ``T`` (sampling the flow at a lower temperature, as is common
for normalising flows). The colour detail then stays closer to the flow's
conditional mean, i.e. closer to a smooth photo: on 12 held-out 256 px photos at full
capacity, T = 1.0 / 0.8 / 0.7 / 0.6 gave PSNR 32.7 / 36.9 / 38.4 / 39.6 dB, raw BER
2.7 / 2.9 / 3.3 / 3.6 % and decoded at the base error correction for 12 / 12 / 11 / 9
photos. The extractor reads signs only, so it does not need to know ``T``. A cover
that cannot carry the payload at ``T`` under any error correction of the ladder is
tried again at T = 1.0 (larger magnitudes survive rounding better) before giving up.
"""

from __future__ import annotations

import secrets as _secrets
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from stegnet.errors import StegnetError, UsageError
from stegnet.imageio import require_min_side
from stegnet.payload import container
from stegnet.tensors import image_to_tensor, tensor_to_image
from stegnet.tiling import tile_boxes

MIN_COVER_SIDE = 32
REFINE_ROUNDS = 6  # at most; embedding stops once the payload provably decodes
MIN_ROUNDS = 1
ATTEMPTS = 2  # fresh random magnitudes per error-correction strength before the next one
DEFAULT_TEMPERATURE = 0.8  # scale of the latent magnitudes (see the module docstring)
TILE = 1024  # pixels per tile side for large images (memory bound), overlapping by MARGIN
MARGIN = 64


@dataclass
class EmbedReport:
    """What an embedding achieved (raw errors measured on the stego as written)."""

    stego: np.ndarray
    channel_bits: int
    raw_bit_errors: int
    nsym: int = container.DEFAULT_NSYM
    decodable: bool = True
    temperature: float = DEFAULT_TEMPERATURE  # the one used (1.0 after a fallback)

    @property
    def raw_ber(self) -> float:
        return self.raw_bit_errors / max(1, self.channel_bits)


def latent_shape(height: int, width: int) -> tuple[int, int, int]:
    """(channels, rows, cols) of the latent carrying bits for an image of that size."""
    return 6, height // 2, width // 2


def channel_bits(height: int, width: int) -> int:
    """Raw channel bits an image of that size offers."""
    channels, rows, cols = latent_shape(height, width)
    return channels * rows * cols


def ecc_nsym(model_name: str | None = None) -> int:
    """Base Reed-Solomon parity bytes per codeword for a model (from its card)."""
    from stegnet.zoo import get_model_info

    return int(get_model_info("bits", model_name).card.get("ecc_nsym", container.DEFAULT_NSYM))


def nsym_ladder(base: int) -> tuple[int, ...]:
    """The error-correction strengths tried, weakest first: base, base + 32, base + 64.

    The embedder uses the weakest one under which its own stego provably decodes (hard
    covers with many saturated colours need more parity); the extractor tries them in turn.
    """
    return tuple(n for n in (base, base + 32, base + 64) if n <= 240)


def capacity(height: int, width: int, keyed: bool, nsym: int) -> int:
    """Net payload bytes that fit in an image of that size."""
    return container.capacity_bytes(channel_bits(height, width), keyed, nsym)


def _half_res_tiles(height: int, width: int):
    """(outer, inner) boxes on the half-resolution latent grid (see :mod:`stegnet.tiling`)."""
    return tile_boxes(height // 2, width // 2, TILE // 2, MARGIN // 2)


def _analyse(model, image: np.ndarray, device: str) -> np.ndarray:
    """8-bit image (even size) -> latent (6, h, w) float32, tile by tile for large images."""
    import torch

    height, width = image.shape[:2]
    latent = np.empty(latent_shape(height, width), dtype=np.float32)
    for (top, left, bottom, right), (i_top, i_left, i_bottom, i_right) in _half_res_tiles(
        height, width
    ):
        tile = image[2 * top : 2 * bottom, 2 * left : 2 * right]
        with torch.inference_mode():
            z = model.analyse(image_to_tensor(tile, device))[0].float().cpu().numpy()
        latent[:, i_top:i_bottom, i_left:i_right] = z[
            :, i_top - top : i_bottom - top, i_left - left : i_right - left
        ]
    return latent


def _synthesise(model, cover: np.ndarray, z: np.ndarray, device: str) -> np.ndarray:
    """8-bit cover (even size) + latent (6, h, w) -> 8-bit stego, tile by tile."""
    import torch

    height, width = cover.shape[:2]
    stego = np.empty_like(cover)
    for (top, left, bottom, right), (i_top, i_left, i_bottom, i_right) in _half_res_tiles(
        height, width
    ):
        tile = cover[2 * top : 2 * bottom, 2 * left : 2 * right]
        with torch.inference_mode():
            latent = torch.from_numpy(np.ascontiguousarray(z[:, top:bottom, left:right]))
            out = model.synthesise(image_to_tensor(tile, device), latent.to(device).unsqueeze(0))
        out = tensor_to_image(out)
        stego[2 * i_top : 2 * i_bottom, 2 * i_left : 2 * i_right] = out[
            2 * (i_top - top) : 2 * (i_bottom - top), 2 * (i_left - left) : 2 * (i_right - left)
        ]
    return stego


def embed(
    cover: np.ndarray,
    payload: bytes,
    key: bytes | None = None,
    model=None,
    model_name: str | None = None,
    device: str = "cpu",
    rounds: int = REFINE_ROUNDS,
    progress: Callable[[int, int], None] | None = None,
    temperature: float = DEFAULT_TEMPERATURE,
) -> EmbedReport:
    """Embed ``payload`` in ``cover`` (magnitudes at ``temperature``, 0 < T <= 1).

    Tries the error-correction strengths of :func:`nsym_ladder`, weakest first, among
    those the payload fits in. Raises PayloadTooLarge if it fits none, and StegnetError
    if the cover cannot carry it reliably even with the strongest that fits.
    """
    from stegnet.zoo import load_model

    require_min_side(cover, MIN_COVER_SIDE, "cover")
    check_temperature(temperature)
    height, width = cover.shape[:2]
    n_bits = channel_bits(height, width)
    ladder = nsym_ladder(ecc_nsym(model_name))
    fitting = [n for n in ladder if len(payload) <= container.capacity_bytes(n_bits, key
                                                                            is not None, n)]
    if not fitting:
        container.pack(payload, n_bits, key, ladder[0])  # raises PayloadTooLarge, says capacity
    model = model if model is not None else load_model("bits", model_name, device)
    report = None
    # Magnitudes are random: a borderline cover may pass on another attempt.
    for temp in _temperatures(temperature):
        for nsym in fitting:
            for _attempt in range(ATTEMPTS):
                report = _embed_with(cover, payload, key, model, device, nsym, rounds,
                                     progress, temp)
                if report.decodable:
                    return report
    assert report is not None
    raise StegnetError(
        f"this cover cannot carry {len(payload)} bytes reliably (raw bit error rate "
        f"{report.raw_ber:.1%} even with {report.nsym} parity bytes per codeword); use a "
        f"smaller payload (see `stegnet capacity`) or another photo"
    )


def _temperatures(temperature: float) -> tuple[float, ...]:
    """The requested temperature, then 1.0 as a fallback for covers that need it."""
    return (temperature, 1.0) if temperature < 1.0 else (temperature,)


def check_temperature(temperature: float) -> None:
    """UsageError unless 0.1 <= temperature <= 1.5."""
    if not 0.1 <= temperature <= 1.5:
        raise UsageError(f"temperature must be between 0.1 and 1.5 (got {temperature})")


def _embed_with(cover: np.ndarray, payload: bytes, key: bytes | None, model, device: str,
                nsym: int, rounds: int, progress,
                temperature: float = DEFAULT_TEMPERATURE) -> EmbedReport:
    """Embed with one error-correction strength; the report says whether it decodes."""
    height, width = cover.shape[:2]
    even_h, even_w = height // 2 * 2, width // 2 * 2
    bits = container.pack(payload, channel_bits(height, width), key, nsym)
    signs = (bits.astype(np.float32) * 2 - 1).reshape(latent_shape(height, width))
    rng = np.random.default_rng(_secrets.randbits(128))
    magnitude = temperature * np.abs(rng.standard_normal(signs.shape)).astype(np.float32)
    cover_even = np.ascontiguousarray(cover[:even_h, :even_w])
    best: tuple[int, np.ndarray] | None = None
    decodable = False
    for round_index in range(rounds + 1):
        stego_even = _synthesise(model, cover_even, signs * magnitude, device)
        latent = _analyse(model, stego_even, device)
        wrong = np.sign(latent) != signs
        errors = int(wrong.sum())
        if best is None or errors < best[0]:
            best = (errors, stego_even)
        if progress is not None:
            progress(round_index + 1, rounds + 1)
        # Stop as soon as the extractor's own computation decodes the payload WITHOUT the
        # reliability hints it will have (a safety margin), after at least MIN_ROUNDS.
        if round_index >= MIN_ROUNDS and _decodes(latent, payload, key, nsym, reliable=False):
            best, decodable = (errors, stego_even), True
            break
        redraw = temperature * np.abs(rng.standard_normal(errors)).astype(np.float32)
        magnitude[wrong] = np.maximum(magnitude[wrong], redraw)
    assert best is not None
    if not decodable:
        final = _analyse(model, best[1], device)
        decodable = _decodes(final, payload, key, nsym, reliable=True)
    stego = cover.copy()
    stego[:even_h, :even_w] = best[1]
    return EmbedReport(stego=stego, channel_bits=bits.size, raw_bit_errors=best[0], nsym=nsym,
                       decodable=decodable, temperature=temperature)


def measured_capacity(cover: np.ndarray, keyed: bool, model=None,
                      model_name: str | None = None, device: str = "cpu",
                      temperature: float = DEFAULT_TEMPERATURE) -> int:
    """Payload bytes THIS cover carries reliably: the capacity under the weakest error
    correction of :func:`nsym_ladder` with which a trial embedding of a full random
    payload decodes (0 if none does). Costs one to three trial embeddings."""
    from stegnet.zoo import load_model

    height, width = cover.shape[:2]
    model = model if model is not None else load_model("bits", model_name, device)
    key = _secrets.token_bytes(16) if keyed else None
    for temp in _temperatures(temperature):
        for nsym in nsym_ladder(ecc_nsym(model_name)):
            size = capacity(height, width, keyed, nsym)
            trial = _embed_with(cover, _secrets.token_bytes(size), key, model, device, nsym,
                                REFINE_ROUNDS, None, temp)
            if trial.decodable:
                return size
    return 0


def _decodes(latent: np.ndarray, payload: bytes, key: bytes | None, nsym: int,
             reliable: bool) -> bool:
    """Would extraction from this latent give back exactly ``payload``?"""
    flat = latent.reshape(-1)
    try:
        recovered = container.unpack((flat > 0).astype(np.uint8),
                                     np.abs(flat) if reliable else None, key, nsym)
    except StegnetError:
        return False
    return recovered == payload


def load_model_default(device: str = "cpu"):
    """The default shipped colour flow (cached)."""
    from stegnet.zoo import load_model

    return load_model("bits", None, device)


def extract(
    stego: np.ndarray,
    key: bytes | None = None,
    model=None,
    model_name: str | None = None,
    device: str = "cpu",
) -> bytes:
    """Recover the payload; raises PayloadNotFound / WrongKeyOrCorrupted, never returns garbage."""
    from stegnet.zoo import load_model

    require_min_side(stego, MIN_COVER_SIDE, "stego image")
    height, width = stego.shape[:2]
    even = np.ascontiguousarray(stego[: height // 2 * 2, : width // 2 * 2])
    model = model if model is not None else load_model("bits", model_name, device)
    latent = _analyse(model, even, device).reshape(-1)
    bits = (latent > 0).astype(np.uint8)
    first_error: StegnetError | None = None
    for nsym in nsym_ladder(ecc_nsym(model_name)):
        try:
            return container.unpack(bits, np.abs(latent), key, nsym)
        except StegnetError as error:
            first_error = first_error or error
    assert first_error is not None
    raise first_error
