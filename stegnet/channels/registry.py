"""The ordered channel registry: the only place that lists the channels and the order in
which ``extract-bits`` tries them.

A channel's name is its module's name in :mod:`stegnet.channels` (``--channel NAME``,
JSON ``channel``, the zoo task of its network, the README's table). Adding a channel is one
module that defines ``CHANNEL`` (a :class:`~stegnet.channels.base.Channel`), one line in
:data:`ORDER`, and its tests.

Why this order: the robust channel first (a few milliseconds, and its stegos are the ones
that travel through lossy paths, where the exact channels hold nothing); then the JPEG
channel (only a JPEG file's coefficients); then the pixel channel (no network,
milliseconds); the colour flow last (it runs a network over the whole image).
"""

from __future__ import annotations

import importlib

from stegnet.channels.base import Channel
from stegnet.errors import UsageError

ORDER: tuple[str, ...] = ("robust", "jpeg", "pixel", "flow")
"""Every channel, in the order extraction tries them."""

DEFAULT = "pixel"
"""The channel ``embed-bits`` uses for a lossless output (a JPEG output uses ``jpeg``)."""


def names() -> tuple[str, ...]:
    """The channel names, in extraction order (imports nothing)."""
    return ORDER


def get(name: str) -> Channel:
    """The channel called ``name`` (UsageError listing the names if there is none)."""
    if name not in ORDER:
        raise UsageError(f"unknown channel {name!r} (channels: {', '.join(ORDER)})")
    return importlib.import_module(f"stegnet.channels.{name}").CHANNEL


def in_extraction_order(medium: str | None = None) -> list[Channel]:
    """The channels extraction tries, in order; only those of ``medium`` if given."""
    channels = [get(name) for name in ORDER]
    return [c for c in channels if medium is None or c.medium == medium]


LEGACY_MODES = {"auto": ("pixel", None), "adaptive": ("pixel", None), "flow": ("flow", "auto"),
                "sparse": ("flow", "sparse"), "full": ("flow", "full")}
"""The former ``--mode`` values: -> (channel, the flow's ``flow_mode`` or None)."""


def resolve(channel: str | None, mode: str | None = None, robust: bool = False,
            default: str = DEFAULT) -> tuple[str, dict[str, str]]:
    """The channel name (and the options the old spelling implied) of ``channel``, or of
    the deprecated ``mode`` / ``robust`` spellings; ``default`` when none is given.

    UsageError for an unknown name or mode, or for spellings that contradict each other.
    """
    chosen: list[tuple[str, dict[str, str]]] = []
    if channel is not None:
        get(channel)  # an unknown name is an error here
        chosen.append((channel, {}))
    if mode is not None:
        if mode not in LEGACY_MODES:
            raise UsageError(f"unknown mode {mode!r} (use --channel {'/'.join(ORDER)}; the "
                             f"flow's own modes are --flow-mode auto/sparse/full)")
        name, flow_mode = LEGACY_MODES[mode]
        chosen.append((name, {"flow_mode": flow_mode} if flow_mode else {}))
    if robust:
        chosen.append(("robust", {}))
    if len({name for name, _ in chosen}) > 1:
        raise UsageError("--channel, --mode and --robust name different channels: give one "
                         "--channel")
    if not chosen:
        return default, {}
    options: dict[str, str] = {}
    for _, implied in chosen:
        options.update(implied)
    return chosen[0][0], options


def check_options(channel: Channel, options: dict) -> None:
    """UsageError for an option that ``channel`` does not take (options belong to their
    channel), naming the channel(s) that do; then the channel's own range checks."""
    for option in options:
        if option not in channel.options:
            owners = [name for name in ORDER if option in get(name).options]
            flag = "--" + option.replace("_", "-")
            where = f"the {' / '.join(owners)} channel" if owners else "no channel"
            raise UsageError(f"{flag} applies to {where}, not to the {channel.name} channel")
    check = getattr(channel, "check_options", None)
    if check is not None:
        check(**options)
