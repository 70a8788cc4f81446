"""The numbers of the README and of docs/results.md are generated from results/: running
the generator over the committed pages changes nothing, byte for byte."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from stegnet_research.cards import update_readme

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("page", ["README.md", "docs/results.md"])
def test_pages_regenerate_byte_for_byte_from_results(page: str) -> None:
    source = ROOT / page
    copy = source.with_name(f".regenerated-{source.name}")  # same folder: same links
    shutil.copy(source, copy)
    try:
        assert update_readme(copy, ROOT / "results") > 0  # it has generated sections
        assert copy.read_bytes() == source.read_bytes()
    finally:
        copy.unlink()


def test_the_channel_table_names_every_channel_the_readme_presents() -> None:
    from stegnet.channels import ORDER
    from stegnet_research.channeltable import SHOWN, channel_table

    assert set(SHOWN) == set(ORDER)
    table = channel_table(ROOT / "results")
    assert all(f"| `{name}`" in table for name in ORDER)
