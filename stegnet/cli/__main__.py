"""``python -m stegnet.cli``: the ``stegnet`` command."""

from stegnet.cli import main

main()
