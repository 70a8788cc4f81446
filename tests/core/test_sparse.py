"""Cover-preserving embedding: texture-weighted costs, stall detection, re-planning."""

from __future__ import annotations

import numpy as np
import pytest

from stegnet.channels.flow import embed as bits
from stegnet.channels.flow import sparse
from stegnet.imageio import decode_png_roundtrip
from stegnet.payload import container
from stegnet.synthetic import synthetic_photo
from stegnet.zoo import load


@pytest.fixture(scope="module")
def flow():
    return load("flow")


def test_texture_weight_is_high_on_smooth_and_low_on_textured_blocks() -> None:
    rng = np.random.default_rng(3)
    image = np.full((64, 128, 3), 120, np.uint8)
    image[:, 64:] = rng.integers(0, 256, (64, 64, 3))  # right half: noise
    weight = sparse.texture_weight(image)
    assert weight.shape == (32, 64) and np.isclose(np.median(weight), 1.0)
    assert weight[:, :20].min() > 10 * weight[:, 44:].max()


def test_stalled_needs_two_rounds_without_a_tenth_less() -> None:
    assert not sparse.stalled([100, 80])
    assert not sparse.stalled([100, 80, 70])
    assert sparse.stalled([100, 80, 75, 74])
    assert not sparse.stalled([100, 80, 75, 60])


def test_texture_weighting_moves_changes_to_texture(flow, monkeypatch) -> None:
    """The busy half of the cover gets a larger share of the changed pixels with
    texture-weighted costs than without."""
    cover = synthetic_photo(128, 128, 41)
    rng = np.random.default_rng(4)
    cover[:, 64:] = np.clip(cover[:, 64:].astype(int) + rng.integers(-20, 21, (128, 64, 3)),
                            0, 255).astype(np.uint8)
    share = {}
    for weighted in (False, True):
        monkeypatch.setattr(sparse, "TEXTURE_COSTS", weighted)
        report = bits.embed(cover, b"a short note", None, flow, mode="sparse")
        assert bits.extract(decode_png_roundtrip(report.stego), None, flow) == b"a short note"
        changed = (report.stego != cover).any(axis=-1)
        share[weighted] = changed[:, 64:].sum() / changed.sum()
    assert share[True] > share[False] + 0.1


def test_replanning_from_what_the_stego_reads_still_decodes(flow, monkeypatch) -> None:
    """Planning the code again from the signs the 8-bit stego reads (here in every
    round, with margins far too small at first) still ends decodable."""
    cover = synthetic_photo(128, 128, 42)
    monkeypatch.setattr(sparse, "SPARSE_LEVELS", 0.01)
    monkeypatch.setattr(sparse, "stalled", lambda counts: True)
    solves = []
    real_solve = sparse.stc.Frame.solve
    monkeypatch.setattr(sparse.stc.Frame, "solve", lambda self, b, c: (
        solves.append(1), real_solve(self, b, c))[1])
    report = bits.embed(cover, bytes(range(40)), b"key", flow, mode="sparse")
    assert report.mode == "sparse" and report.decodable and len(solves) >= 2
    assert report.channel_bits > 2 * container.needed_bits(40, True, report.nsym)  # coded
    assert bits.extract(decode_png_roundtrip(report.stego), b"key", flow) == bytes(range(40))


def test_refinement_gives_up_when_a_replan_does_not_help(flow) -> None:
    """A stego on which no flip ever takes (here: the cover itself, whatever is asked):
    after the first re-plan fails to lower the wrong syndrome bits, the next stall ends
    the refinement, long before its round limit."""
    cover = synthetic_photo(64, 64, 7)
    cover_latent, margin, costs = sparse.prepare(cover, flow)
    payload = bytes(range(20))
    frame = container.syndrome_frame(payload, cover_latent.size, None, 64)
    assert frame is not None
    stegos = []

    def make_stego(latent_in: np.ndarray) -> np.ndarray:
        stegos.append(1)
        return cover.copy()

    errors, _, decodable = sparse.refine_syndrome(
        frame, make_stego, cover_latent, margin, costs, payload, None, flow, 30, None)
    assert not decodable and errors > 0
    assert 4 <= len(stegos) < 12  # two stalls of a few rounds each, not 31 rounds
