"""stegnet.jpegio (JPEG coefficients in and out) and stegnet.costs_jpeg (UERD, J-UNIWARD
against conseal's known answers), on small JPEGs made here with Pillow."""

from __future__ import annotations

import io
import os

import numpy as np
import pytest
from PIL import Image  # noqa: E402

from stegnet import costs_jpeg, jpegio  # noqa: E402
from stegnet.errors import InputError, OutputError  # noqa: E402
from stegnet.synthetic import synthetic_photo  # noqa: E402

ICC = b"\x00" * 128 + b"stegnet test profile" * 4
XMP = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF/></x:xmpmeta>'


def textured(height: int, width: int, seed: int = 0) -> np.ndarray:
    """A photo-like (H, W, 3) uint8 image with sensor-like noise (JPEG texture)."""
    rng = np.random.default_rng(seed)
    image = synthetic_photo(height, width, seed).astype(np.float64)
    return np.clip(image + rng.normal(0, 6, image.shape), 0, 255).astype(np.uint8)


def make_jpeg(height: int = 64, width: int = 96, grey: bool = False, metadata: bool = False,
              seed: int = 0, **save: object) -> bytes:
    """A JPEG made by Pillow (libjpeg-turbo); ``metadata``: EXIF, XMP, ICC and a comment."""
    image = Image.fromarray(textured(height, width, seed))
    if grey:
        image = image.convert("L")
    save.setdefault("quality", 75)
    if metadata:
        exif = Image.Exif()
        exif[0x010F] = "stegnet"
        exif[0x0110] = "test camera"
        save.update(exif=exif.tobytes(), icc_profile=ICC, comment=b"a comment", xmp=XMP)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", **save)
    return buffer.getvalue()


def app_segments(data: bytes) -> list[bytes]:
    return [data[start:end] for marker, start, end in jpegio._segments(data)
            if 0xE0 <= marker <= 0xEF or marker == 0xFE]


KINDS = {
    "baseline-420": dict(),
    "baseline-444-q95": dict(subsampling="4:4:4", quality=95),
    "baseline-422": dict(subsampling="4:2:2"),
    "optimized": dict(optimize=True),
    "progressive": dict(progressive=True),
    "progressive-444": dict(progressive=True, subsampling="4:4:4", quality=90),
    "restart": dict(restart_marker_blocks=3),
    "grey": dict(grey=True),
    "grey-progressive": dict(grey=True, progressive=True),
    "odd-size": dict(height=45, width=67),
}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_read_write_keeps_everything(kind: str, tmp_path) -> None:
    data = make_jpeg(metadata=True, **KINDS[kind])
    cover = jpegio.read_jpeg(data)
    save = KINDS[kind]
    assert (cover.height, cover.width) == (save.get("height", 64), save.get("width", 96))
    assert cover.is_grey == bool(save.get("grey"))
    assert cover.progressive == bool(save.get("progressive"))
    assert cover.restart_interval == (3 if kind == "restart" else 0)
    assert len(cover.metadata) == 5  # JFIF, EXIF, XMP, ICC, COM
    out = tmp_path / "out.jpg"
    jpegio.write_jpeg(cover, out)
    written = out.read_bytes()
    again = jpegio.read_jpeg(written)
    np.testing.assert_array_equal(again.coefficients(), cover.coefficients())
    for a, b in zip(again.quant_tables, cover.quant_tables, strict=True):
        np.testing.assert_array_equal(a, b)
    assert again.sampling == cover.sampling and again.progressive == cover.progressive
    assert app_segments(written) == app_segments(data)  # byte for byte, same order
    assert jpegio._sof_ids(written) == jpegio._sof_ids(data)
    np.testing.assert_array_equal(np.asarray(Image.open(out)),
                                  np.asarray(Image.open(io.BytesIO(data))))
    if not cover.progressive and kind != "restart":
        assert written == data  # libjpeg's own entropy coding, reproduced exactly
    # mozjpeg's progressive scans are a few % smaller (see stegnet.jpegio)
    assert abs(len(written) / len(data) - 1) < (0.10 if cover.progressive else 0.03)


def test_coefficient_order_and_setters() -> None:
    cover = jpegio.read_jpeg(make_jpeg(32, 48))
    flat = cover.coefficients()
    assert flat.dtype == np.int16
    sizes = [c.size for c in cover.components]
    assert flat.size == sum(sizes) and sizes[0] == 4 * sizes[1]  # 4:2:0
    np.testing.assert_array_equal(flat[: sizes[0]].reshape(cover.components[0].shape),
                                  cover.components[0])
    changed = flat.copy()
    changed[sizes[0] + 64 + 5] += 1  # Cb, second block, mode (0, 5)
    other = cover.with_coefficients(changed)
    assert other.components[1][0, 1, 0, 5] == cover.components[1][0, 1, 0, 5] + 1
    np.testing.assert_array_equal(cover.coefficients(), flat)  # the original is unchanged
    changed[1] = 1024
    with pytest.raises(ValueError):
        cover.with_coefficients(changed)
    with pytest.raises(ValueError):
        cover.with_coefficients(flat[:-1])


def test_refuses_unsupported_and_broken(tmp_path) -> None:
    cmyk = io.BytesIO()
    Image.fromarray(textured(32, 32)).convert("CMYK").save(cmyk, "JPEG")
    with pytest.raises(InputError, match="CMYK"):
        jpegio.read_jpeg(cmyk.getvalue())
    data = make_jpeg(32, 32)
    sof = data.index(b"\xff\xc0")
    arithmetic = data[: sof + 1] + b"\xc9" + data[sof + 2 :]
    with pytest.raises(InputError, match="arithmetic"):
        jpegio.read_jpeg(arithmetic)
    with pytest.raises(InputError, match="truncated"):
        jpegio.read_jpeg(data[: len(data) // 2])
    png = tmp_path / "x.png"
    Image.fromarray(textured(16, 16)).save(png)
    assert not jpegio.is_jpeg(png) and jpegio.is_jpeg(data)
    with pytest.raises(InputError, match="not a JPEG"):
        jpegio.read_jpeg(png)
    with pytest.raises(InputError, match="cannot read"):
        jpegio.read_jpeg(tmp_path / "missing.jpg")


def test_write_refuses_overwrite_and_is_atomic(tmp_path) -> None:
    cover = jpegio.read_jpeg(make_jpeg(16, 16))
    out = tmp_path / "o.jpg"
    out.write_bytes(b"old")
    with pytest.raises(OutputError, match="exists"):
        jpegio.write_jpeg(cover, out)
    assert out.read_bytes() == b"old"
    jpegio.write_jpeg(cover, out, force=True)
    assert jpegio.is_jpeg(out) and os.listdir(tmp_path) == ["o.jpg"]


def test_compress() -> None:
    cover = jpegio.compress(textured(40, 56), 80)
    assert (cover.height, cover.width) == (40, 56) and not cover.progressive
    assert cover.sampling == [(2, 2), (1, 1), (1, 1)]
    grey = jpegio.compress(textured(40, 56)[..., 0], 80)
    assert grey.is_grey and len(grey.components) == 1


# -------------------------------------------------------------------- costs vs conseal


@pytest.fixture(scope="module")
def small_cover() -> jpegio.JpegCover:
    data = make_jpeg(40, 56, quality=85)  # 4:2:0: Y 5 x 7 blocks, chroma 3 x 4
    return jpegio.read_jpeg(data)


def test_uerd_matches_conseal(small_cover) -> None:
    conseal_uerd = pytest.importorskip("conseal.uerd._costmap")
    flat = np.zeros((4, 4, 8, 8), np.int16)  # a flat area: zero energy -> inf
    flat[0, 0, 0, 0] = 5
    pairs = list(zip(small_cover.components, small_cover.quant_tables, strict=True))
    for coefficients, qt in [*pairs, (flat, small_cover.quant_tables[0])]:
        ours, theirs = costs_jpeg.uerd(coefficients, qt), conseal_uerd.compute_cost(
            coefficients, qt)
        np.testing.assert_array_equal(ours, theirs)
        saturated = coefficients.copy()
        saturated[0, 0, 1, 2], saturated[-1, -1, 3, 3] = 1023, -1023
        ours = costs_jpeg.ternary(costs_jpeg.uerd(saturated, qt), saturated)
        theirs = conseal_uerd.compute_cost_adjusted(saturated, qt)
        for a, b in zip(ours, theirs, strict=True):
            np.testing.assert_array_equal(a, b)


def test_juniward_matches_conseal(small_cover) -> None:
    conseal_juniward = pytest.importorskip("conseal.juniward._costmap")
    from conseal.tools import decompress_channel

    implementation = conseal_juniward.Implementation
    for coefficients, qt in zip(small_cover.components, small_cover.quant_tables,
                                strict=True):
        spatial = costs_jpeg.decompress(coefficients, qt)
        np.testing.assert_allclose(spatial, decompress_channel(coefficients, qt), atol=1e-9)
        for original, which in [(False, implementation.JUNIWARD_FIX_OFF_BY_ONE),
                                (True, implementation.JUNIWARD_ORIGINAL)]:
            theirs = conseal_juniward.compute_cost(spatial, qt, implementation=which)
            ours = costs_jpeg.juniward(coefficients, qt, original=original, dtype="float64")
            np.testing.assert_allclose(ours, theirs, rtol=1e-9)
            fast = costs_jpeg.juniward(coefficients, qt, original=original)
            np.testing.assert_allclose(fast, theirs, rtol=2e-3)


def test_cover_costs(small_cover) -> None:
    for method in costs_jpeg.COSTS:
        rho = costs_jpeg.cover_costs(small_cover, method)
        assert rho.shape == small_cover.coefficients().shape
        assert np.all(rho > 0) and np.all(rho <= costs_jpeg.WET)
        assert np.all(rho.reshape(-1, 64)[:, 0] == costs_jpeg.WET)  # DC: never
    with pytest.raises(ValueError):
        costs_jpeg.cover_costs(small_cover, "hill")
