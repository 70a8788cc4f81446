"""The ``flow`` channel: payload bits as signs of the Gaussian latents of a conditional
INN over Lab colour given lightness (Steg-cINN-style; the design stegnet started from).

* :mod:`stegnet.channels.flow.latents`: the latents as a channel of sign bits (analyse,
  synthesise, tiles, the embedder's refinement loop);
* :mod:`stegnet.channels.flow.sparse`: cover-preserving embedding, syndrome-coded over the
  cover's own latent signs (flow mode ``sparse``);
* :mod:`stegnet.channels.flow.embed`: the modes (``auto``, ``sparse``, ``full``
  re-synthesis at a temperature), the error-correction ladder, measured capacity,
  extraction.

Its network is the zoo's ``flow`` model (``cinn-s6`` by default). It is exact after an
8-bit PNG but more detectable than the pixel channel (see the README's channel table).
Its options: ``flow_mode`` (:data:`~stegnet.channels.flow.embed.MODES`), ``temperature``
(0.1-1.5, full mode), ``allow_grey`` (a grey cover is refused otherwise: the flow would
paint colour into it), ``measured`` (capacity: a trial embedding, default, or the
size-only figure).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from stegnet.channels.base import Progress, Report
from stegnet.channels.flow import embed as _flow
from stegnet.errors import InputError

GREY_COVER_MESSAGE = (
    "cover is grey-scale: the flow channel hides bytes in colour detail, which would make a "
    "grey photo visibly colourful; use the pixel channel (the default) or --allow-grey")


class FlowChannel:
    """The ``flow`` channel (see the package docstring)."""

    name = "flow"
    summary = ("payload bits as signs of the colour flow's Gaussian latents (cinn-s6); "
               "the design stegnet started from, kept for research")
    survives = "lossless files only (PNG); any re-compression destroys it"
    medium = "pixels"
    model_task = "flow"
    options: tuple[str, ...] = ("flow_mode", "temperature", "allow_grey", "measured")
    min_cover_side = _flow.MIN_COVER_SIDE
    min_stego_side = _flow.MIN_COVER_SIDE

    @staticmethod
    def check_options(flow_mode: str = "auto", temperature: float = _flow.DEFAULT_TEMPERATURE,
                      **_: Any) -> None:
        """UsageError for a flow mode or temperature out of range (before any work)."""
        _flow.check_mode(flow_mode)
        _flow.check_temperature(temperature)

    def nominal_capacity(self, cover: np.ndarray, keyed: bool, model: Any = None) -> int:
        """Size-only capacity under the model's weakest error correction."""
        height, width = cover.shape[:2]
        return _flow.capacity(height, width, keyed, _flow.ecc_nsym(_flow.resolve_model(model)))

    def capacity(self, cover: np.ndarray, keyed: bool, model: Any = None,
                 flow_mode: str = "auto", temperature: float = _flow.DEFAULT_TEMPERATURE,
                 measured: bool = True, **_: Any) -> int:
        """Payload bytes THIS cover carries reliably (a trial embedding,
        :func:`~stegnet.channels.flow.embed.measured_capacity`), or with ``measured=False``
        the nominal size-only figure."""
        self.check_options(flow_mode, temperature)
        if not measured:
            return self.nominal_capacity(cover, keyed, model)
        from stegnet.errors import PayloadTooLarge

        try:
            return _flow.measured_capacity(cover, keyed, model, temperature)
        except PayloadTooLarge:  # the stronger error corrections leave no room at all
            return 0

    def embed(self, cover: np.ndarray, payload: bytes, key: bytes | None, model: Any = None,
              progress: Progress = None, flow_mode: str = "auto",
              temperature: float = _flow.DEFAULT_TEMPERATURE, allow_grey: bool = False,
              **_: Any) -> Report:
        """See :func:`stegnet.channels.flow.embed.embed`; InputError for a grey cover unless
        ``allow_grey``."""
        from stegnet.greyscale import is_grey

        self.check_options(flow_mode, temperature)
        if not allow_grey and is_grey(cover):
            raise InputError(GREY_COVER_MESSAGE)
        return _flow.embed(cover, payload, key, model, progress=progress,
                           temperature=temperature, mode=flow_mode)

    def extract(self, stego: np.ndarray, key: bytes | None, model: Any = None) -> bytes:
        """See :func:`stegnet.channels.flow.embed.extract`."""
        return _flow.extract(stego, key, model)


CHANNEL = FlowChannel()
