"""stegnet: steganography with invertible neural networks.

Two methods, both usable from Python without the CLI:

* :mod:`stegnet.hiding` -- image-in-image hiding (HiNet-style invertible network).
* :mod:`stegnet.bits` -- arbitrary bytes in the colour of a photo (conditional INN over Lab).
"""

__version__ = "0.1.0"
