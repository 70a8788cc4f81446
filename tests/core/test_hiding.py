"""Library-level image hiding: secret fitting, odd sizes, tiling, and the shipped model."""

import numpy as np
import pytest

from stegnet import hiding
from stegnet.errors import InputError
from stegnet.metrics import psnr
from stegnet.synthetic import synthetic_photo
from stegnet.zoo import load


def test_fit_secret_letterboxes_keeping_aspect_ratio() -> None:
    secret = np.full((50, 100, 3), 200, dtype=np.uint8)
    canvas = hiding.fit_secret(secret, 100, 100)
    assert canvas.shape == (100, 100, 3)
    assert (canvas[25:75] == 200).all()  # resized to 100x50, centred
    assert (canvas[:25] == 0).all() and (canvas[75:] == 0).all()


def test_fit_secret_same_size_is_identity() -> None:
    secret = synthetic_photo(40, 60, 3)
    assert np.array_equal(hiding.fit_secret(secret, 40, 60), secret)


def test_too_small_cover_is_refused() -> None:
    with pytest.raises(InputError, match="at least"):
        hiding.hide(np.zeros((32, 80, 3), np.uint8), np.zeros((32, 32, 3), np.uint8))


@pytest.mark.parametrize(("height", "width"), [(65, 97), (96, 128)])
def test_shipped_model_hides_and_reveals_odd_and_even_sizes(height: int, width: int) -> None:
    model = load("hide")
    cover, secret = synthetic_photo(height, width, 4), synthetic_photo(height, width, 5)
    stego = hiding.hide(cover, secret, model)
    assert stego.shape == cover.shape and stego.dtype == np.uint8
    assert psnr(cover, stego) > 30
    revealed = hiding.reveal(stego, model)
    assert revealed.shape == cover.shape
    assert psnr(secret, revealed) > 24
    # the secret is really carried by the stego: a clean cover reveals something else
    assert psnr(secret, hiding.reveal(cover, model)) < psnr(secret, revealed) - 6


def test_tiled_processing_matches_whole_image() -> None:
    model = load("hide")
    cover, secret = synthetic_photo(128, 192, 6), synthetic_photo(128, 192, 7)
    whole = hiding.hide(cover, secret, model, tile=512)
    tiled = hiding.hide(cover, secret, model, tile=64)
    assert psnr(whole, tiled) > 40  # seams differ only where the margin is exceeded
    revealed = hiding.reveal(tiled, model, tile=64)
    assert psnr(secret, revealed) > 24


def test_scramble_is_a_keyed_bijection() -> None:
    canvas = synthetic_photo(70, 90, 8)  # not a multiple of the block size
    scrambled = hiding.scramble(canvas, b"key")
    assert not np.array_equal(scrambled, canvas)
    assert np.array_equal(hiding.scramble(scrambled, b"key", reverse=True), canvas)
    assert not np.array_equal(hiding.scramble(scrambled, b"other", reverse=True), canvas)


def test_keyed_hiding_needs_the_key() -> None:
    from pathlib import Path

    from PIL import Image

    from stegnet.imageio import decode_png_roundtrip

    folder = Path(__file__).resolve().parents[2] / "examples"
    cover = np.asarray(Image.open(folder / "cover.png").convert("RGB"))[:128, :128]
    secret = np.asarray(Image.open(folder / "secret.png").convert("RGB"))[:128, :128]
    stego = decode_png_roundtrip(hiding.hide(cover, secret, key=b"right"))
    right = psnr(secret, hiding.reveal(stego, key=b"right"))
    wrong = psnr(secret, hiding.reveal(stego, key=b"wrong"))
    assert wrong < 12 and right > wrong + 8


def test_detection_tiles_cover_the_image_and_are_capped() -> None:
    from stegnet.reveal_check import _tile_starts, detection_tiles

    assert _tile_starts(100, 256) == [0]
    assert _tile_starts(600, 256) == [0, 256, 344]
    image = np.zeros((600, 513, 3), dtype=np.uint8)
    tiles = detection_tiles(image, max_tiles=100)
    assert len(tiles) == 9 and all(t.shape == (256, 256, 3) for t in tiles)
    assert len(detection_tiles(image)) == 8  # DETECT_MAX_TILES: bounded time
    small = detection_tiles(np.zeros((97, 131, 3), dtype=np.uint8))
    assert [t.shape for t in small] == [(96, 130, 3)]  # even sizes for the colour flow
    assert len(detection_tiles(np.zeros((4000, 3000, 3), dtype=np.uint8), max_tiles=7)) == 7


def test_detect_tells_hide_stego_from_clean_and_embed_bits(photo, other_photo) -> None:
    """A synthetic photo fools the CNN (its texture looks like noise) but not the colour
    latents; a hide stego passes both tests; an embed-bits stego fails the second."""
    from stegnet.channels.flow import embed as bits
    from stegnet.hiding import detect, hide

    clean = detect(photo)
    stego = detect(hide(photo, other_photo))
    assert not clean.detected and stego.detected
    assert stego.latent_tail > clean.latent_tail
    bits_stego = bits.embed(photo, b"x" * 40, None, temperature=0.8).stego
    found = detect(bits_stego)
    assert not found.detected and set(found.to_dict()) == {
        "detected", "cnn_logit", "latent_tail", "latent_kurtosis"}


def test_eval_hide_loads_the_named_model_once(monkeypatch) -> None:
    from stegnet import zoo
    from stegnet_research.evaluate import Sample, eval_hide

    calls = []
    real = zoo.load

    def recording(task, name=None, device="cpu"):
        calls.append((task, name, device))
        return real(task, name, device)

    monkeypatch.setattr(zoo, "load", recording)
    covers = [Sample(f"c{i}", synthetic_photo(64, 80, 40 + i)) for i in range(2)]
    result = eval_hide(covers, model="hinet-s4", device="cpu")
    assert calls == [("hide", "hinet-s4", "cpu")]
    assert result["aggregate"]["stego_psnr"]["count"] == 2
    assert result["aggregate"]["secret_psnr"]["mean"] > 20


def test_bfloat16_working_precision_costs_next_to_nothing() -> None:
    """The subnets in bfloat16 (the default on CPUs that have it) against float32, after
    the 8-bit round trip: the stego and the revealed secret within 0.2 dB of float32."""
    cover, secret = synthetic_photo(128, 128, 1), synthetic_photo(128, 128, 2)
    net = load("hide")
    result = {}
    for precision in ("float32", "bfloat16"):
        stego = hiding.hide(cover, secret, net, precision=precision)
        revealed = hiding.reveal(stego, net, precision=precision)
        result[precision] = (stego, psnr(cover, stego), psnr(secret, revealed))
    assert not np.array_equal(result["float32"][0], result["bfloat16"][0])  # it did change
    assert abs(result["float32"][1] - result["bfloat16"][1]) < 0.2
    assert abs(result["float32"][2] - result["bfloat16"][2]) < 0.2


def test_scramble_moves_whole_tiles_turned_but_intact() -> None:
    """Every 32x32 tile of the scrambled canvas is a tile of the original, flipped, turned
    or transposed: the content the network must carry keeps natural image statistics."""
    block = hiding.KEY_BLOCK
    canvas = synthetic_photo(3 * block, 4 * block, 5)
    scrambled = hiding.scramble(canvas, b"key")
    tiles = [canvas[r:r + block, c:c + block] for r in range(0, 3 * block, block)
             for c in range(0, 4 * block, block)]
    orientations = [
        lambda t, k=k, f=f: np.rot90(t[:, ::-1] if f else t, k) for k in range(4) for f in (0, 1)
    ]
    used = set()
    for r in range(0, 3 * block, block):
        for c in range(0, 4 * block, block):
            piece = scrambled[r:r + block, c:c + block]
            match = [i for i, tile in enumerate(tiles)
                     if any(np.array_equal(turn(tile), piece) for turn in orientations)]
            assert len(match) == 1
            used.add(match[0])
    assert len(used) == len(tiles)  # a permutation
    assert not np.array_equal(scrambled, canvas)
