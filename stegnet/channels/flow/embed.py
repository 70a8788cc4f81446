"""The colour flow's embedding and extraction (the ``flow`` channel, :mod:`stegnet.channels.flow`).

Images are numpy arrays HxWx3 uint8. Pipeline (see :mod:`stegnet.models.cinn`)::

    payload --container.pack--> (positions, frame bits) --signs at those latents--> z
    z, cover --ColourFlow (reverse)--> stego colour --Lab->RGB--> 8-bit stego

    stego --RGB->Lab--ColourFlow (forward)--> z_hat --sign--> bits --unpack--> payload

This is the design stegnet started from (Steg-cINN-style: payload bits as signs of the
Gaussian latents of a conditional INN over Lab given lightness). The default channel of
``embed-bits`` is the pixel channel (:mod:`stegnet.channels.pixel`), far less detectable
at every payload we measured (``results/detection-vs-payload``); the flow is chosen with
``--channel flow`` (flow mode ``auto`` = sparse for small frames, else full).

Two ways to set z (flow ``mode``):

* ``sparse`` (cover-preserving, the default for frames of at most
  :data:`SPARSE_MAX_FRACTION` of the channel, :mod:`stegnet.channels.flow.sparse`): z starts as the
  cover's own latents z_c. The frame is syndrome-coded over the signs (syndrome-trellis
  codes, :func:`stegnet.payload.container.syndrome_frame`), so the embedder flips only the
  latents where a flip is cheapest (:func:`stegnet.channels.flow.sparse.flip_plan`: the
  colour change a flip makes, weighted by the block's texture) and needs ~4 frame bits per flip
  instead of 2. Only the 2x2 pixel blocks of changed latents are replaced; every other
  pixel stays the cover's.
* ``full`` (re-synthesis): z = sign * T * |e|, e ~ N(0, 1), everywhere (random signs
  where the frame puts nothing), i.e. all colour detail is redrawn; this is what reaches
  the measured capacity (~0.5 bit/pixel, ~41 dB at the default temperature).

One latent (one channel bit) per colour-detail coefficient: 6 per 2x2 pixel block, i.e.
1.5 raw bits per pixel; an odd last row/column is copied and carries nothing. Large images
(:mod:`stegnet.channels.flow.latents`) are processed in overlapping tiles (bounded memory); the few
latents near seams that tiles disagree on are fixed by the refinement below or by error
correction.

Embedder-side refinement (:func:`stegnet.channels.flow.latents.refine`; sparse:
:func:`stegnet.channels.flow.sparse.refine_syndrome`): the magnitudes carry no information, so after
writing the 8-bit stego the embedder runs the extractor itself and pushes every frame
latent whose sign did not survive rounding (sparse: up to the block's margin, then
further, and plans the code again around latents that will not move; full: magnitude
redrawn as ``max(|e|, |e'|)``, ``e'`` a fresh half-normal draw; measured on a held-out
photo: raw BER 3.5% -> 1.2% after 5 rounds for ~1.8 dB PSNR), then synthesises again. It
stops once the extractor's own computation decodes the payload even without the
reliability hints extraction will use (a safety margin), and refuses (rather than write a
stego that would not extract) if none does.

Temperature ``T`` (:data:`DEFAULT_TEMPERATURE` = 0.6, full mode): magnitudes are drawn
from a half-normal scaled by ``T``, keeping colour detail closer to the flow's conditional
mean. Full re-synthesis at each cover's measured capacity on 24 held-out package-split
256 px photos (``results/rate-distortion/temperature-heldout-package-256.json``):
T = 0.8 / 0.7 / 0.6 gave 0.527 / 0.511 / 0.504 bit/pixel at PSNR 36.9 / 38.7 / 39.8 dB,
all 24 round trips exact (an earlier run on 12 photos: T = 1.0 gave 32.7 dB). The
extractor reads signs only. A cover that cannot carry the payload at ``T`` is tried again
at T = 1.0 (larger magnitudes survive rounding better) before giving up.
"""

from __future__ import annotations

import secrets as _secrets
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from stegnet.channels.base import Report
from stegnet.channels.flow import sparse
from stegnet.channels.flow.latents import (  # noqa: F401  (analyse, latent_shape: public API)
    analyse,
    channel_bits,
    flow_report,
    latent_shape,
    refine,
    sign_check,
    split_even,
    synthesise,
)
from stegnet.errors import StegnetError, UsageError
from stegnet.imageio import require_min_side
from stegnet.payload import container

if TYPE_CHECKING:
    from stegnet.zoo import LoadedModel

MIN_COVER_SIDE = 32
REFINE_ROUNDS = 6  # at most; embedding stops once the payload provably decodes
MIN_ROUNDS = 1
ATTEMPTS = 2  # fresh random magnitudes per error-correction strength before the next one
DEFAULT_TEMPERATURE = 0.6  # scale of the latent magnitudes (see the module docstring)
MODES = ("auto", "sparse", "full")
"""How the flow sets the latents: ``auto`` = sparse for small frames, else full."""
SPARSE_MAX_FRACTION = 0.25  # flow mode: sparse when the frame takes at most this share
SPARSE_NSYM = (64, 128, 192)  # error correction tried by sparse embedding, weakest first


def ecc_nsym(model: LoadedModel) -> int:
    """Base Reed-Solomon parity bytes per codeword of a loaded model (from its card)."""
    return int(model.card.get("ecc_nsym", container.DEFAULT_NSYM))


def resolve_model(model: LoadedModel | None) -> LoadedModel:
    """``model``, or the default shipped colour flow on the CPU."""
    from stegnet.zoo import load

    return model if model is not None else load("flow")


def nsym_ladder(base: int) -> tuple[int, ...]:
    """The error-correction strengths tried, weakest first: base, base + 32, base + 64.

    The embedder uses the weakest one under which its own stego provably decodes (hard
    covers with many saturated colours need more parity); the extractor tries them in turn.
    """
    return tuple(n for n in (base, base + 32, base + 64) if n <= 240)


def capacity(height: int, width: int, keyed: bool, nsym: int) -> int:
    """Net payload bytes that fit in an image of that size."""
    return container.capacity_bytes(channel_bits(height, width), keyed, nsym)


def embed(
    cover: np.ndarray,
    payload: bytes,
    key: bytes | None = None,
    model: LoadedModel | None = None,
    *,
    rounds: int = REFINE_ROUNDS,
    progress: Callable[[int, int], None] | None = None,
    temperature: float = DEFAULT_TEMPERATURE,
    mode: str = "auto",
) -> Report:
    """Embed ``payload`` in ``cover`` (HxWx3 uint8); returns the 8-bit stego and a report.

    ``mode``: ``"sparse"`` changes only the latents the payload needs (cover-preserving,
    see the module docstring), ``"full"`` re-synthesises all colour detail with magnitudes
    at ``temperature``, ``"auto"`` (default) uses sparse when the frame takes at most
    :data:`SPARSE_MAX_FRACTION` of the channel and falls back to full if sparse cannot make
    the payload decode. Every mode tries the error-correction
    strengths of :func:`nsym_ladder`, weakest first, among those the payload fits in.
    Raises PayloadTooLarge if it fits none, and StegnetError if the cover cannot carry it
    reliably even with the strongest that fits. ``model``: a loaded colour flow
    (:func:`stegnet.zoo.load`), by default the shipped one on the CPU; its card gives the
    error-correction ladder.
    """
    require_min_side(cover, MIN_COVER_SIDE, "cover")
    check_temperature(temperature)
    check_mode(mode)
    height, width = cover.shape[:2]
    n_bits = channel_bits(height, width)
    keyed = key is not None
    model = resolve_model(model)
    ladder = nsym_ladder(ecc_nsym(model))
    fitting = [n for n in ladder if len(payload) <= container.capacity_bytes(n_bits, keyed, n)]
    if not fitting:
        container.pack(payload, n_bits, key, ladder[0])  # raises PayloadTooLarge, says capacity
    sparse_fitting = [n for n in SPARSE_NSYM
                      if container.needed_bits(len(payload), keyed, n) <= n_bits]
    fraction = container.needed_bits(len(payload), keyed, SPARSE_NSYM[0]) / n_bits
    plans: list[tuple[str, float]] = []
    if mode == "sparse" or (mode == "auto" and fraction <= SPARSE_MAX_FRACTION):
        plans.append(("sparse", temperature))
    if mode in ("full", "auto"):
        plans += [("full", temp) for temp in _temperatures(temperature)]
    report = None
    prepared = sparse.prepare(cover, model) if plans[0][0] == "sparse" else None
    for how, temp in plans:
        for nsym in sparse_fitting if how == "sparse" else fitting:
            # Full-mode magnitudes are random: a borderline cover may pass on another attempt.
            # (A sparse try that fails with 64 parity bytes often passes with 128 or 192:
            # its raw error rate does not predict that, so every strength is tried.)
            for _attempt in range(ATTEMPTS if how == "full" else 1):
                if how == "sparse":
                    report = sparse.embed_sparse(cover, payload, key, model, nsym,
                                                 sparse.SPARSE_ROUNDS, progress, prepared)
                else:
                    report = _embed_full(cover, payload, key, model, nsym, rounds,
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


def check_mode(mode: str) -> None:
    """UsageError unless ``mode`` is one of :data:`MODES`."""
    if mode not in MODES:
        raise UsageError(f"the flow mode must be one of {', '.join(MODES)} (got {mode!r})")


def _embed_full(cover: np.ndarray, payload: bytes, key: bytes | None, model: LoadedModel,
                nsym: int, rounds: int, progress,
                temperature: float = DEFAULT_TEMPERATURE) -> Report:
    """Full re-synthesis with one error-correction strength (see the module docstring)."""
    cover_even, even_h, even_w = split_even(cover)
    shape = latent_shape(even_h, even_w)
    n_bits = channel_bits(even_h, even_w)
    positions, frame_bits = container.pack(payload, n_bits, key, nsym)
    rng = np.random.default_rng(_secrets.randbits(128))
    signs = rng.integers(0, 2, n_bits).astype(np.float32) * 2 - 1  # filler: random signs
    target = frame_bits.astype(np.float32) * 2 - 1
    signs[positions] = target
    magnitude = temperature * np.abs(rng.standard_normal(n_bits)).astype(np.float32)

    def make_stego() -> np.ndarray:
        return synthesise(model, cover_even, (signs * magnitude).reshape(shape))

    def push(wrong: np.ndarray) -> None:
        redraw = temperature * np.abs(rng.standard_normal(int(wrong.sum()))).astype(np.float32)
        magnitude[positions[wrong]] = np.maximum(magnitude[positions[wrong]], redraw)

    errors, stego_even, decodable = refine(make_stego, sign_check(positions, target), push,
                                           payload, key, model, rounds, progress, MIN_ROUNDS)
    stego = cover.copy()
    stego[:even_h, :even_w] = stego_even
    return flow_report(stego, len(positions), errors, nsym, decodable, temperature, "full",
                       n_bits, model)


def measured_capacity(cover: np.ndarray, keyed: bool, model: LoadedModel | None = None,
                      temperature: float = DEFAULT_TEMPERATURE) -> int:
    """Payload bytes THIS cover carries reliably: the capacity under the weakest error
    correction of :func:`nsym_ladder` with which a trial embedding of a full random
    payload decodes. Costs one to three trial embeddings; if none decodes, the largest of
    1/4, 1/16 and 1/64 of the nominal capacity that a sparse trial carries (0 if none)."""
    height, width = cover.shape[:2]
    model = resolve_model(model)
    key = _secrets.token_bytes(16) if keyed else None
    for temp in _temperatures(temperature):
        for nsym in nsym_ladder(ecc_nsym(model)):
            size = capacity(height, width, keyed, nsym)
            trial = _embed_full(cover, _secrets.token_bytes(size), key, model, nsym,
                                REFINE_ROUNDS, None, temp)
            if trial.decodable:
                return size
    # Hard covers (large saturated or flat areas): the largest of a few smaller payloads
    # that a sparse trial embedding carries.
    nominal = capacity(height, width, keyed, nsym_ladder(ecc_nsym(model))[-1])
    prepared = sparse.prepare(cover, model)
    for size in (nominal // 4, nominal // 16, nominal // 64):
        for nsym in SPARSE_NSYM:
            if container.needed_bits(size, keyed, nsym) > channel_bits(height, width):
                continue
            trial = sparse.embed_sparse(cover, _secrets.token_bytes(size), key, model, nsym,
                                  sparse.SPARSE_ROUNDS, None, prepared)
            if trial.decodable:
                return size
    return 0


def extract(
    stego: np.ndarray,
    key: bytes | None = None,
    model: LoadedModel | None = None,
) -> bytes:
    """Recover the payload of a flow-channel stego; raises PayloadNotFound /
    WrongKeyOrCorrupted, never returns garbage.

    ``model``: the loaded colour flow the stego was made with (default: the shipped one).
    """
    require_min_side(stego, MIN_COVER_SIDE, "stego image")
    height, width = stego.shape[:2]
    even = np.ascontiguousarray(stego[: height // 2 * 2, : width // 2 * 2])
    latent = analyse(resolve_model(model), even).reshape(-1)
    return container.unpack((latent > 0).astype(np.uint8), np.abs(latent), key)
