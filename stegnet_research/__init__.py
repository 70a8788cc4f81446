"""stegnet's research wing: data splits, training recipes, evaluation studies, cards, plots.

It imports the product core (:mod:`stegnet`) and is never imported by it (checked by
``tests/test_architecture.py``). Everything here writes where it is told (an ``--out``
option, ``results/`` by default), never into the installed package.
"""
