"""Watermarking peers for the robust-channel study, behind one small interface.

* ``dwtDct`` and ``rivaGan`` from ``invisible-watermark`` (package ``imwatermark``;
  rivaGan runs its ONNX models from the wheel and carries exactly 32 bits);
* ``blind-watermark`` (DWT-DCT-SVD, package ``blind_watermark``) at its defaults.

Install them with ``pip install -e ".[peers]"``. Each peer embeds a bit string into an
(H, W, 3) uint8 RGB photo and reads it back from a received photo. Neither package undoes
a resize: :func:`decode` scales the received photo back to the stego's size first, a help
the receiver of a real resized photo would not have (stegnet's robust channel gets none).
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass

import numpy as np

from stegnet_research.distortions import resize


@dataclass(frozen=True)
class Peer:
    """A watermarking method and the payload size (bits) it is tested with."""

    name: str  # "dwtDct", "rivaGan" or "blind-watermark"
    bits: int


def available(name: str) -> bool:
    """Whether the peer's package is installed."""
    module = "blind_watermark" if name == "blind-watermark" else "imwatermark"
    try:
        __import__(module)
        if name == "rivaGan":
            __import__("onnxruntime")
    except ImportError:
        return False
    return True


def _quiet():
    return contextlib.redirect_stdout(io.StringIO())


def embed(peer: Peer, cover: np.ndarray, message: np.ndarray) -> np.ndarray:
    """Watermark ``cover`` with ``message`` (bits,) 0/1; -> the 8-bit stego."""
    bgr = np.ascontiguousarray(cover[..., ::-1])
    with _quiet():
        if peer.name == "blind-watermark":
            from blind_watermark import WaterMark, bw_notes

            bw_notes.close()
            marker = WaterMark(password_img=1, password_wm=1, processes=1)
            marker.read_img(img=bgr)
            marker.read_wm(message.astype(bool), mode="bit")
            out = marker.embed()
        else:
            from imwatermark import WatermarkEncoder

            if peer.name == "rivaGan":
                WatermarkEncoder.loadModel()
            encoder = WatermarkEncoder()
            encoder.set_watermark("bits", [int(b) for b in message])
            out = encoder.encode(bgr, peer.name)
    return np.ascontiguousarray(np.clip(np.round(out), 0, 255).astype(np.uint8)[..., ::-1])


def decode(peer: Peer, received: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Read ``peer.bits`` bits (0/1) from ``received``, first resized to ``shape``."""
    if received.shape[:2] != tuple(shape[:2]):
        received = resize(received, shape[1], shape[0])
    bgr = np.ascontiguousarray(received[..., ::-1])
    with _quiet():
        if peer.name == "blind-watermark":
            from blind_watermark import WaterMark

            reader = WaterMark(password_img=1, password_wm=1, processes=1)
            soft = reader.extract(embed_img=bgr, wm_shape=peer.bits, mode="bit")
            return (np.asarray(soft, dtype=np.float64) > 0.5).astype(np.uint8)
        from imwatermark import WatermarkDecoder

        if peer.name == "rivaGan":
            WatermarkDecoder.loadModel()
        decoder = WatermarkDecoder("bits", peer.bits)
        return np.asarray(decoder.decode(bgr, peer.name), dtype=np.uint8)
