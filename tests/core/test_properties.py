"""Property-based tests (hypothesis): any payload size up to capacity and any image size
round-trip through a saved PNG; odd image sizes hide/reveal to the exact size."""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stegnet import hiding
from stegnet.channels.flow import embed as bits
from stegnet.imageio import decode_png_roundtrip
from stegnet.synthetic import synthetic_photo
from stegnet.zoo import load

FAST = settings(max_examples=6, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


@FAST
@given(height=st.integers(40, 120), width=st.integers(40, 120), fraction=st.floats(0, 1),
       keyed=st.booleans(), seed=st.integers(0, 2**16))
def test_flow_round_trip_any_size(height, width, fraction, keyed, seed) -> None:
    """The colour flow channel (not the default): any size, any share of its capacity."""
    flow = load("flow")
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


@FAST
@given(height=st.integers(32, 140), width=st.integers(32, 140), fraction=st.floats(0, 1),
       keyed=st.booleans(), grey=st.booleans(), seed=st.integers(0, 2**16))
def test_pixel_channel_round_trips_through_the_registry(height, width, fraction, keyed, grey,
                                                        seed) -> None:
    """The default channel through the channel interface and the API's extraction order:
    any size, any share of the capacity, colour or grey."""
    from stegnet import api
    from stegnet.channels import get

    cover = synthetic_photo(height, width, seed)
    if grey:
        cover = np.repeat(cover[..., :1], 3, axis=2)
    key = b"prop" if keyed else None
    pixel = get("pixel")
    size = int(pixel.capacity(cover, keyed) * fraction)
    payload = np.random.default_rng(seed).integers(0, 256, size, dtype=np.uint8).tobytes()
    stego = decode_png_roundtrip(pixel.embed(cover, payload, key).stego)
    assert np.abs(stego.astype(int) - cover).max() <= 1
    found = api.extract_found(stego, key=key)
    assert (found.payload, found.channel) == (payload, "pixel")
