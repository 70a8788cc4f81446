import numpy as np
import pytest

from stegnet.tiling import pad_to_multiple, run_tiled, tile_boxes


def _box_blur(tiles: list[np.ndarray]) -> np.ndarray:
    """A local 3x3 operation (edge-padded), so tiling with a margin >= 1 must be exact."""
    image = tiles[0].astype(np.float64)
    padded = np.pad(image, ((1, 1), (1, 1), (0, 0)), mode="edge")
    out = sum(padded[dy : dy + image.shape[0], dx : dx + image.shape[1]]
              for dy in range(3) for dx in range(3)) / 9
    return out


def test_tiles_cover_the_image_exactly_once() -> None:
    seen = np.zeros((70, 90), dtype=int)
    for _, (top, left, bottom, right) in tile_boxes(70, 90, 32, 4):
        seen[top:bottom, left:right] += 1
    assert (seen == 1).all()


def test_run_tiled_matches_whole_image_in_the_interior() -> None:
    rng = np.random.default_rng(0)
    image = rng.random((64, 96, 3))
    whole = _box_blur([image])
    tiled = run_tiled([image], _box_blur, tile=16, margin=2)
    # identical away from the image border (the border uses edge padding in both)
    assert np.allclose(tiled[1:-1, 1:-1], whole[1:-1, 1:-1])


def test_run_tiled_reports_progress_and_rejects_odd_sizes() -> None:
    calls = []
    image = np.zeros((8, 8, 3))
    run_tiled([image], lambda t: t[0], tile=4, margin=0, progress=lambda d, t: calls.append(d))
    assert calls == [1, 2, 3, 4]
    with pytest.raises(ValueError):
        run_tiled([np.zeros((7, 8, 3))], lambda t: t[0])


@pytest.mark.parametrize(("height", "width"), [(5, 7), (6, 8), (1, 3)])
def test_pad_to_multiple(height: int, width: int) -> None:
    image = np.arange(height * width * 3).reshape(height, width, 3)
    padded = pad_to_multiple(image, 2)
    assert padded.shape[0] % 2 == 0 and padded.shape[1] % 2 == 0
    assert np.array_equal(padded[:height, :width], image)
