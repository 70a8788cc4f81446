"""Property-based tests (hypothesis): any payload size up to capacity and any image size
round-trip through a saved PNG; odd image sizes hide/reveal to the exact size."""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stegnet import bits, hiding
from stegnet.imageio import decode_png_roundtrip
from stegnet.synthetic import synthetic_photo
from stegnet.zoo import load

FAST = settings(max_examples=6, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


@FAST
@given(height=st.integers(40, 120), width=st.integers(40, 120), fraction=st.floats(0, 1),
       keyed=st.booleans(), seed=st.integers(0, 2**16))
def test_bits_round_trip_any_size(height, width, fraction, keyed, seed) -> None:
    flow = load("bits")
    key = b"prop" if keyed else None
    cap = bits.capacity(height, width, keyed, bits.ecc_nsym(flow))
    size = int(cap * fraction)
    payload = np.random.default_rng(seed).integers(0, 256, size, dtype=np.uint8).tobytes()
    cover = synthetic_photo(height, width, seed)
    stego = decode_png_roundtrip(bits.embed(cover, payload, key, flow).stego)
    assert stego.shape == cover.shape
    assert bits.extract(stego, key, flow) == payload


@FAST
@given(height=st.integers(64, 130), width=st.integers(64, 130), seed=st.integers(0, 2**16))
def test_hide_keeps_exact_size(height, width, seed) -> None:
    net = load("hide")
    cover = synthetic_photo(height, width, seed)
    stego = hiding.hide(cover, synthetic_photo(50, 70, seed + 1), net)
    assert stego.shape == cover.shape
    assert hiding.reveal(stego, net).shape == cover.shape
