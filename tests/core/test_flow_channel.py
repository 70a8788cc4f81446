"""Library-level byte hiding with the shipped colour flow: exact round trips via PNG."""

import dataclasses

import numpy as np
import pytest

from stegnet.channels.flow import embed as bits
from stegnet.channels.flow import latents as signchannel
from stegnet.errors import PayloadNotFound, PayloadTooLarge, WrongKeyOrCorrupted
from stegnet.imageio import decode_png_roundtrip
from stegnet.synthetic import synthetic_photo
from stegnet.zoo import load


@pytest.fixture(scope="module")
def flow():
    return load("flow")


def test_channel_bit_layout() -> None:
    assert bits.latent_shape(96, 128) == (6, 48, 64)
    assert bits.channel_bits(96, 128) == 6 * 48 * 64
    assert bits.channel_bits(97, 129) == bits.channel_bits(96, 128)  # odd row/col carry nothing


@pytest.mark.parametrize("keyed", [False, True])
@pytest.mark.parametrize("size", ["0", "1", "1024", "capacity"])
def test_round_trip_through_png(flow, size: str, keyed: bool) -> None:
    cover = synthetic_photo(128, 160, 11)  # 30720 channel bits: 1 KiB fits
    key = b"k3y" if keyed else None
    cap = bits.capacity(128, 160, keyed, bits.ecc_nsym(flow))
    n = cap if size == "capacity" else int(size)
    payload = np.random.default_rng(n).integers(0, 256, n, dtype=np.uint8).tobytes()
    report = bits.embed(cover, payload, key, flow, mode="auto")
    stego = decode_png_roundtrip(report.stego)
    assert bits.extract(stego, key, flow) == payload
    assert report.raw_ber < 0.05


def test_odd_size_cover_keeps_last_row_and_column(flow) -> None:
    cover = synthetic_photo(65, 97, 12)
    report = bits.embed(cover, b"odd sizes work", None, flow, mode="auto")
    assert np.array_equal(report.stego[-1], cover[-1])
    assert np.array_equal(report.stego[:, -1], cover[:, -1])
    assert bits.extract(decode_png_roundtrip(report.stego), None, flow) == b"odd sizes work"


def test_payload_too_large(flow) -> None:
    cover = synthetic_photo(64, 64, 13)
    cap = bits.capacity(64, 64, False, bits.ecc_nsym(flow))
    with pytest.raises(PayloadTooLarge, match=str(cap)):
        bits.embed(cover, bytes(cap + 1), None, flow, mode="auto")


def test_wrong_key_clean_cover_and_missing_key_fail_cleanly(flow) -> None:
    cover = synthetic_photo(96, 128, 14)
    stego = bits.embed(cover, b"secret", b"right", flow, mode="auto").stego
    with pytest.raises(WrongKeyOrCorrupted):
        bits.extract(stego, b"wrong", flow)
    with pytest.raises(PayloadNotFound):
        bits.extract(stego, None, flow)
    with pytest.raises(PayloadNotFound):
        bits.extract(cover, None, flow)


def test_heavily_damaged_stego_is_detected_not_garbage(flow) -> None:
    cover = synthetic_photo(96, 128, 15)
    stego = bits.embed(cover, b"x" * 300, None, flow, mode="auto").stego.copy()
    stego[:, :64] = np.random.default_rng(0).integers(0, 256, stego[:, :64].shape)
    with pytest.raises((WrongKeyOrCorrupted, PayloadNotFound)):
        bits.extract(stego, None, flow)


def test_tiled_embedding_of_a_large_image_round_trips(flow, monkeypatch) -> None:
    monkeypatch.setattr(signchannel, "TILE", 96)
    monkeypatch.setattr(signchannel, "MARGIN", 32)
    cover = synthetic_photo(200, 170, 16)  # 3 x 2 tiles, odd width
    payload = bytes(range(256)) * 2
    report = bits.embed(cover, payload, b"tiles", flow, mode="auto")
    assert bits.extract(decode_png_roundtrip(report.stego), b"tiles", flow) == payload


@pytest.mark.parametrize("mode", ["full", "sparse"])
def test_extractor_reads_the_error_correction_from_the_frame(flow, monkeypatch,
                                                             mode: str) -> None:
    cover = synthetic_photo(96, 128, 17)
    base = bits.ecc_nsym(flow)
    with monkeypatch.context() as patch:
        patch.setattr(bits, "nsym_ladder", lambda _base: (base + 32,))
        patch.setattr(bits, "SPARSE_NSYM", (base + 32,))
        report = bits.embed(cover, b"needs more parity", None, flow, mode=mode)
    assert report.nsym == base + 32 and report.mode == mode
    assert bits.extract(decode_png_roundtrip(report.stego), None, flow) == b"needs more parity"


def test_measured_capacity_is_carried(flow) -> None:
    cover = synthetic_photo(96, 128, 18)
    cap = bits.measured_capacity(cover, False, flow)
    assert 0 < cap <= bits.capacity(96, 128, False, bits.ecc_nsym(flow))
    payload = bytes(range(256)) * (cap // 256) + bytes(cap % 256)
    stego = decode_png_roundtrip(bits.embed(cover, payload, None, flow, mode="auto").stego)
    assert bits.extract(stego, None, flow) == payload


def test_lower_temperature_is_closer_to_the_cover_and_still_extracts(flow) -> None:
    from stegnet.metrics import psnr

    cover = synthetic_photo(128, 128, 21)
    payload = bytes(range(256)) * 4
    quality = {}
    for temperature in (1.0, 0.6):
        stego = decode_png_roundtrip(bits.embed(cover, payload, None, flow, mode="auto",
                                                temperature=temperature).stego)
        assert bits.extract(stego, None, flow) == payload  # the extractor reads signs only
        quality[temperature] = psnr(cover, stego)
    assert quality[0.6] > quality[1.0] + 1.0


@pytest.mark.parametrize("temperature", [0.0, -1.0, 2.0])
def test_temperature_out_of_range_is_a_usage_error(flow, temperature: float) -> None:
    from stegnet.errors import UsageError

    with pytest.raises(UsageError, match="temperature"):
        bits.embed(synthetic_photo(64, 64, 1), b"x", None, flow, temperature=temperature)


def test_hard_cover_falls_back_to_temperature_one(flow, monkeypatch) -> None:
    """If no error correction works at the requested temperature, T = 1.0 is tried."""
    real = bits._embed_full
    used = []

    def fussy(*args):
        report = real(*args)
        used.append(args[-1])
        report.decodable = report.decodable and args[-1] == 1.0
        return report

    monkeypatch.setattr(bits, "_embed_full", fussy)
    cover = synthetic_photo(64, 64, 3)
    report = bits.embed(cover, b"fallback", None, flow, temperature=0.7, mode="full")
    assert used[0] == 0.7 and used[-1] == 1.0
    assert bits.extract(decode_png_roundtrip(report.stego), None, flow) == b"fallback"
    assert bits.measured_capacity(cover, False, flow, temperature=0.7) > 0


def test_sparse_mode_keeps_the_cover_where_the_payload_does_not_need_it(flow) -> None:
    """A short message changes few pixels (only 2x2 blocks of moved latents) and is far
    closer to the cover than full re-synthesis of the same message."""
    from stegnet.metrics import psnr

    cover = synthetic_photo(128, 128, 22)
    message = b"meet at noon"
    sparse = bits.embed(cover, message, None, flow, mode="auto")
    assert sparse.mode == "sparse"
    full = bits.embed(cover, message, None, flow, mode="full")
    assert full.mode == "full"
    changed = (sparse.stego != cover).any(axis=-1)
    assert changed.mean() < 0.15
    assert (full.stego != cover).any(axis=-1).mean() > 0.5
    assert psnr(cover, sparse.stego) > psnr(cover, full.stego) + 6
    for report in (sparse, full):
        assert bits.extract(decode_png_roundtrip(report.stego), None, flow) == message


def test_small_payloads_are_syndrome_coded_and_change_less(flow, monkeypatch) -> None:
    """The syndrome-coded frame reads more latents than it has bits, and changes fewer
    pixels than writing the same frame directly (one latent per bit, about half flipped)."""
    from stegnet.metrics import psnr
    from stegnet.payload import container

    cover = synthetic_photo(128, 128, 25)
    message = b"meet at noon"
    coded = bits.embed(cover, message, None, flow, mode="auto")
    frame = container.needed_bits(len(message), False, coded.nsym)
    assert coded.mode == "sparse" and coded.channel_bits > 2 * frame
    assert bits.extract(decode_png_roundtrip(coded.stego), None, flow) == message
    monkeypatch.setattr(container, "LATENT",  # no room for a code: direct
                        dataclasses.replace(container.LATENT, max_share=0.0))
    direct = bits.embed(cover, message, None, flow, mode="auto")
    assert direct.channel_bits == frame
    assert bits.extract(decode_png_roundtrip(direct.stego), None, flow) == message
    changed = [(r.stego != cover).any(axis=-1).mean() for r in (coded, direct)]
    assert changed[0] < 0.8 * changed[1]
    assert psnr(cover, coded.stego) > psnr(cover, direct.stego)


def test_flow_mode_switches_to_full_resynthesis_for_large_payloads(flow) -> None:
    cover = synthetic_photo(96, 96, 23)
    cap = bits.capacity(96, 96, False, bits.ecc_nsym(flow))
    report = bits.embed(cover, bytes(cap // 2), None, flow, mode="auto")
    assert report.mode == "full"
    assert bits.extract(decode_png_roundtrip(report.stego), None, flow) == bytes(cap // 2)


def test_sparse_changes_grow_with_the_payload(flow) -> None:
    cover = synthetic_photo(128, 128, 24)
    fractions = []
    for size in (8, 120):
        report = bits.embed(cover, bytes(range(size)), b"k", flow, mode="sparse")
        fractions.append((report.stego != cover).any(axis=-1).mean())
        stego = decode_png_roundtrip(report.stego)
        assert bits.extract(stego, b"k", flow) == bytes(range(size))
    assert fractions[0] < fractions[1]


def test_unknown_mode_is_a_usage_error(flow) -> None:
    from stegnet.errors import UsageError

    with pytest.raises(UsageError, match="mode"):
        bits.embed(synthetic_photo(64, 64, 1), b"x", None, flow, mode="lsb")


@pytest.fixture
def recorded_loads(monkeypatch) -> list[tuple]:
    """Every stegnet.zoo.load call of the test (the studies must load each model once)."""
    from stegnet import zoo

    calls: list[tuple] = []
    real = zoo.load

    def recording(task, name=None, device="cpu"):
        calls.append((task, name, device))
        return real(task, name, device)

    monkeypatch.setattr(zoo, "load", recording)
    return calls


def test_bits_studies_use_the_given_model_and_device(flow, recorded_loads,
                                                     monkeypatch) -> None:
    from stegnet.zoo import get_model_info
    from stegnet_research.channel_studies import eval_bits, eval_rate_distortion
    from stegnet_research.evaluate import Sample

    covers = [Sample("c0", synthetic_photo(64, 64, 31))]
    weights = str(get_model_info("flow").path)  # a weight file, as for a training run
    analysed = []
    real_analyse = bits.analyse
    monkeypatch.setattr(bits, "analyse", lambda model, image: (
        analysed.append(model), real_analyse(model, image))[1])
    result = eval_bits(covers, model=weights, device="cpu", sizes=("1",),
                       keyed_modes=(False,), channel="flow")
    assert recorded_loads == [("flow", weights, "cpu")]
    assert result["aggregate"]["failures"] == 0 and result["ecc_nsym"] == bits.ecc_nsym(flow)
    curve = eval_rate_distortion(covers, rates=(0.01,), model=weights, device="cpu",
                                 channel="flow")
    assert recorded_loads == [("flow", weights, "cpu")] * 2
    assert [p["rate"] for p in curve["curve"]] == [0.01, "capacity"]
    assert all(p["ok"] == 1 for p in curve["curve"])
    assert len({id(m) for m in analysed}) == 1 and analysed[0].info.path.name.endswith(
        ".safetensors")


def test_robustness_uses_the_given_model(recorded_loads) -> None:
    from stegnet.errors import UnknownModel
    from stegnet_research.evaluate import Sample, eval_robustness, robustness_models

    covers = [Sample(f"c{i}", synthetic_photo(64, 64, 32 + i)) for i in range(2)]
    result = eval_robustness(covers, model="hinet-s4", device="cpu")
    # each model loaded once for the whole study; the other task keeps its default
    assert recorded_loads == [("hide", "hinet-s4", "cpu"), ("flow", None, "cpu")]
    assert result["images"] == 2 and set(result["table"]) >= {"png-resave", "jpeg-75"}
    assert result["table"]["png-resave"]["bits_success"] == "2/2"
    assert result["table"]["png-resave"]["bits_raw_ber_mean"] < 0.05
    net, colour = robustness_models("cinn-s6", "cpu")  # a bits model replaces the flow
    assert (net.info.task, colour.name) == ("hide", "cinn-s6")
    with pytest.raises(UnknownModel):
        robustness_models("xunet-hide", "cpu")


def test_every_entry_point_defaults_to_the_same_temperature() -> None:
    """The flow channel states its default temperature once (the CLI passes only what the
    user gives): every flow entry point agrees with bits.DEFAULT_TEMPERATURE."""
    import inspect

    from stegnet.channels.flow import FlowChannel

    defaults = [inspect.signature(f).parameters["temperature"].default
                for f in (FlowChannel.embed, FlowChannel.capacity, FlowChannel.check_options,
                          bits.embed, bits.measured_capacity)]
    assert defaults == [bits.DEFAULT_TEMPERATURE] * 5
