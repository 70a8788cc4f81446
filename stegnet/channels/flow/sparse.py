"""Cover-preserving (sparse) embedding: change only the latents the payload needs.

The frame is syndrome-coded over the signs of the cover's own latents z_c
(:func:`stegnet.payload.container.syndrome_frame`, syndrome-trellis codes): the coder
picks the cheapest latents to flip (:func:`flip_plan`: the squared colour change, from a
measured per-block gain, weighted by the block's texture, :func:`texture_weight`) and needs
several frame bits per flip. Only the 2x2 pixel blocks of changed latents are replaced;
every other pixel stays the cover's. The embedder then runs the extractor on its own 8-bit
stego and pushes, or plans around, whatever did not survive (:func:`refine_syndrome`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from stegnet.channels.base import Report
from stegnet.channels.flow.latents import (
    analyse,
    flow_report,
    latent_shape,
    refine,
    sign_check,
    split_even,
    synthesise,
)
from stegnet.costs import hill_costs
from stegnet.payload import container, stc

if TYPE_CHECKING:
    from stegnet.zoo import LoadedModel

SPARSE_LEVELS = 1.0  # 8-bit levels a flip should move its 2x2 block (see flip_plan)
SPARSE_MAX_MARGIN = 2.5  # latent units; blocks needing more are left alone (WET_COST)
SPARSE_STEP = 0.2  # added (besides half a margin) to a latent that still reads wrong
SPARSE_MAX_MAGNITUDE = 6.0
SPARSE_ROUNDS = 8  # direct layout, at most; embedding stops once the payload provably decodes
SPARSE_SYNDROME_ROUNDS = 30  # syndrome-coded frame, at most
SPARSE_KEEP = 2.0  # cost factor for undoing a change already made (keeps plans stable)
SPARSE_RESIST = 3  # rounds a latent may fail to take its wanted sign before it is wet
TEXTURE_COSTS = True  # weight flip costs by the block's HILL cost (texture_weight)
WET_COST = 1e6  # flip cost of a latent the embedder should not use
DIRECT_MARGIN = 0.5  # the direct layout's margin (better there than flip_plan's)


def embed_sparse(cover: np.ndarray, payload: bytes, key: bytes | None, model: LoadedModel,
                  nsym: int, rounds: int, progress,
                  prepared: tuple[np.ndarray, ...] | None = None) -> Report:
    """Cover-preserving embedding with one error-correction strength.

    The frame is syndrome-coded over the latents' signs (:func:`container.syndrome_frame`):
    given the cover's own latents ``z_c`` and a cost per flip (:func:`flip_plan`), the coder
    picks the few cheapest latents to flip. A flipped latent goes to ``-sign(z_c) *
    max(|z_c|, margin)``, the margin being what its 2x2 block needs to move ~1 level; only
    the blocks of changed latents are taken from the synthesised image, every other pixel
    stays the cover's. Then (:func:`refine_syndrome`) the extractor's own computation is
    run on the 8-bit stego and the coder solves again from the signs it reads, for the
    cheapest changes that put every syndrome right, until the payload decodes without
    reliability hints (a safety margin). Frames too large for the code, and covers where
    this does not converge, use the direct layout (one latent per frame bit).
    ``prepared``: :func:`prepare` of the cover, if the caller already has it.
    """
    cover_even, even_h, even_w = split_even(cover)
    shape = latent_shape(even_h, even_w)
    cover_latent, margin, costs = prepared or prepare(cover, model)
    frame = container.syndrome_frame(payload, cover_latent.size, key, nsym)
    decodable = False

    def make_stego(latent_in: np.ndarray) -> np.ndarray:
        changed = (latent_in != cover_latent).reshape(shape).any(axis=0)
        stego_even = cover_even.copy()
        if changed.any():
            synth = synthesise(model, cover_even, latent_in.reshape(shape))
            block = np.repeat(np.repeat(changed, 2, axis=0), 2, axis=1)
            stego_even[block] = synth[block]
        return stego_even

    if frame is not None:
        positions = frame.positions
        errors, stego_even, decodable = refine_syndrome(
            frame, make_stego, cover_latent, margin, costs, payload, key, model,
            SPARSE_SYNDROME_ROUNDS, progress)
    if not decodable:  # the direct layout, one latent per frame bit (no error spread)
        positions, frame_bits = container.pack(payload, cover_latent.size, key, nsym)
        target = frame_bits.astype(np.float32) * 2 - 1
        latent_in = cover_latent.copy()
        disagree = np.sign(cover_latent[positions]) != target
        moved = positions[disagree]
        latent_in[moved] = target[disagree] * np.maximum(np.abs(cover_latent[moved]),
                                                         DIRECT_MARGIN)

        def push(wrong: np.ndarray) -> None:
            where = positions[wrong]
            latent_in[where] = target[wrong] * grow(np.abs(latent_in[where]), DIRECT_MARGIN)

        errors, stego_even, decodable = refine(lambda: make_stego(latent_in),
                                               sign_check(positions, target), push, payload,
                                               key, model, rounds, progress, 0)
    stego = cover.copy()
    stego[:even_h, :even_w] = stego_even
    return flow_report(stego, len(positions), errors, nsym, decodable, 0.0, "sparse",
                       cover_latent.size, model)


def refine_syndrome(frame: stc.Frame, make_stego: Callable[[np.ndarray], np.ndarray],
                     cover_latent: np.ndarray, margin: np.ndarray, costs: np.ndarray,
                     payload: bytes, key: bytes | None, model: LoadedModel, rounds: int,
                     progress) -> tuple[int, np.ndarray, bool]:
    """Refinement of a syndrome-coded frame: -> (wrong stream bits, 8-bit stego, decodable).

    Round 0 solves the code from the cover's signs. Every later round solves it again from
    the signs the extractor reads on the current 8-bit stego, so a near-zero latent that a
    neighbouring change tipped over, or a flip that rounding undid, is either fixed or
    routed around, whichever is cheaper. A latent the coder wants changed: if it already
    points the wanted way (it did not survive rounding), its magnitude grows (to its
    margin, then by half a margin per round) and it gets dearer; after
    :data:`SPARSE_RESIST` such rounds it is wet. Otherwise it goes back to the cover's value
    if that is the wanted sign, else across zero with its margin. Gives up early when a
    re-plan did not lower the fewest wrong syndrome bits seen before it (on covers where
    flips keep tipping their neighbours, more rounds only cost time).
    """
    latent_in = cover_latent.copy()
    resisted = np.zeros(cover_latent.size, np.int32)
    positions = frame.positions
    scaled = 0.1 * np.minimum(costs / max(float(np.median(costs)), 1e-12), 10.0)
    plan = {"want": frame.solve((cover_latent > 0).astype(np.uint8), costs), "wrong": [],
            "fewest": float("inf")}  # fewest wrong syndrome bits when the last plan was made
    syndrome_errors: list[int] = []

    def check(latent: np.ndarray) -> tuple[int, np.ndarray]:
        read = (latent > 0).astype(np.uint8)
        plan["wrong"].append(int((read[positions] != plan["want"]).sum()))
        syndrome_errors.append(frame.errors(read))
        return syndrome_errors[-1], read

    def push(read: np.ndarray) -> bool:
        if stalled(plan["wrong"]):
            if syndrome_errors:
                if min(syndrome_errors) >= plan["fewest"]:
                    return True  # the last re-plan did not help: give up
                plan["fewest"] = min(syndrome_errors)
            # Re-plans: fewest changes first (each may fail or tip a neighbour), the
            # cheapest among equals; undoing a change made, or a latent that resisted,
            # costs more.
            price = (1 + scaled) * (1 + resisted) ** 2
            price[latent_in != cover_latent] *= SPARSE_KEEP
            price[resisted >= SPARSE_RESIST] = WET_COST
            plan["want"], plan["wrong"] = frame.solve(read, price), []
        change = plan["want"] != read[positions]
        where, sign = positions[change], plan["want"][change].astype(np.float32) * 2 - 1
        size, need = np.abs(latent_in[where]), margin[where]
        stuck = np.sign(latent_in[where]) == sign
        back = np.sign(cover_latent[where]) == sign
        latent_in[where] = np.where(
            stuck, sign * grow(size, need),
            np.where(back, cover_latent[where], sign * np.maximum(size, need)))
        resisted[where[stuck]] += 1
        return False

    push((cover_latent > 0).astype(np.uint8))  # the first plan's flips
    return refine(lambda: make_stego(latent_in), check, push, payload, key, model, rounds,
                  progress, 0)


def grow(size: np.ndarray, need: np.ndarray | float) -> np.ndarray:
    """New magnitude of a latent that points the right way but still reads wrong: up to
    its margin ``need`` first, then half a margin (plus :data:`SPARSE_STEP`) further, at
    most :data:`SPARSE_MAX_MAGNITUDE`."""
    return np.minimum(np.where(size < need, need, size + 0.5 * need + SPARSE_STEP),
                      SPARSE_MAX_MAGNITUDE)


def stalled(wrong_counts: list[int]) -> bool:
    """True when the latents reading wrong have not fallen by 10% in the last 2 rounds."""
    return len(wrong_counts) >= 3 and min(wrong_counts[-2:]) > 0.9 * min(wrong_counts[:-2])


def flip_plan(model: LoadedModel, cover_even: np.ndarray,
              cover_latent: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(margin, cost) per latent (flat, as :func:`cover_latents`) for sparse embedding.

    The gain ``g`` of each 2x2 block (8-bit levels of colour change per latent unit, RMS
    over its 12 samples) is measured by synthesising the cover with every latent nudged by
    +-0.5 (no rounding; the flow is invertible, so with its own latents the cover comes
    back within 1e-3 levels). A flipped latent must move its block by about
    :data:`SPARSE_LEVELS` levels to survive 8-bit rounding: margin ``SPARSE_LEVELS / g``,
    at most :data:`SPARSE_MAX_MARGIN`. The cost of a flip is the squared colour change it
    makes, ``(g * (|z| + max(|z|, margin)))^2``, times the block's :func:`texture_weight`
    (if :data:`TEXTURE_COSTS`: changes go to textured areas, as HILL puts them); latents
    whose block cannot move that far within the cap get :data:`WET_COST` (a last resort).
    """
    height, width = cover_even.shape[:2]
    shape = latent_shape(height, width)
    rng = np.random.default_rng(0)
    nudge = rng.choice(np.array([-0.5, 0.5], np.float32), cover_latent.size)
    diff = synthesise(model, cover_even, (cover_latent + nudge).reshape(shape), rounded=False)
    del nudge
    diff -= cover_even  # in place, float32: a 24 MP photo holds few full-size arrays at once
    np.square(diff, out=diff)
    gain = np.sqrt(diff.reshape(height // 2, 2, width // 2, 2, 3).mean(axis=(1, 3, 4))) / 0.5
    del diff
    # per 2x2 block (h, w) in float64; the (6, h, w) arrays are built in place
    gain = np.maximum(gain, 1e-4).astype(np.float64)
    need = SPARSE_LEVELS / gain
    margin = np.minimum(need, SPARSE_MAX_MARGIN)
    size = np.abs(cover_latent.astype(np.float64)).reshape(shape)
    cost = np.maximum(size, margin)
    cost += size
    del size
    cost *= gain
    np.square(cost, out=cost)
    if TEXTURE_COSTS:
        cost *= texture_weight(cover_even)
    cost[:, need > SPARSE_MAX_MARGIN] = WET_COST
    margin = np.broadcast_to(margin.astype(np.float32), shape).reshape(-1)
    return margin, cost.reshape(-1)


def texture_weight(cover_even: np.ndarray) -> np.ndarray:
    """HILL-style cost of changing each 2x2 block of an 8-bit image HxWx3 (even size):
    (H/2, W/2) float64, median 1, large where the block is smooth, small in texture (the
    per-sample HILL cost of :func:`stegnet.costs.hill_costs`, averaged over the block's
    4 pixels and 3 channels)."""
    rho = hill_costs(cover_even)
    height, width = rho.shape[0] // 2, rho.shape[1] // 2
    block = rho.reshape(height, 2, width, 2, 3).mean(axis=(1, 3, 4))
    return block / np.median(block)


def prepare(cover: np.ndarray, model: LoadedModel) -> tuple[np.ndarray, ...]:
    """(z_c flat, margin, cost): what every sparse try on this cover starts from."""
    cover_latent = cover_latents(cover, model)
    return (cover_latent, *flip_plan(model, split_even(cover)[0], cover_latent))


def cover_latents(cover: np.ndarray, model: LoadedModel) -> np.ndarray:
    """The cover's own latents z_c, flat (6 * H/2 * W/2,), as the extractor computes them."""
    return analyse(model, split_even(cover)[0]).reshape(-1)
