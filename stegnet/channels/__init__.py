"""The ways stegnet hides bytes, behind one interface.

* :mod:`stegnet.channels.base`: the :class:`Channel` protocol and the one :class:`Report`;
* :mod:`stegnet.channels.registry`: the ordered registry (names, extraction order);
* one module per channel, named as the channel: :mod:`~stegnet.channels.pixel` (the
  default: +-1 on pixel samples, HILL costs, syndrome-trellis coded),
  :mod:`~stegnet.channels.jpeg` (+-1 on a JPEG's quantised DCT coefficients),
  :mod:`~stegnet.channels.robust` (survives re-compression and resizing),
  :mod:`~stegnet.channels.flow` (the colour flow's latent signs).

Nothing outside this package imports a channel module: the API and the CLI go through
:func:`get` and :func:`in_extraction_order`.
"""

from stegnet.channels.base import Channel, Progress, Report
from stegnet.channels.registry import DEFAULT, ORDER, get, in_extraction_order, names

__all__ = ["DEFAULT", "ORDER", "Channel", "Progress", "Report", "get", "in_extraction_order",
           "names"]
