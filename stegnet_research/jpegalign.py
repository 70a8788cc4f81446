"""Does the quality-95 RJCA result of the JPEG detection study depend on the crops being
on the source JPEG's grid? A diagnostic of :mod:`stegnet_research.jpegstudy`.

The shared pool's photos are all quality-95 libjpeg JPEGs. The study crops them at offsets
that are multiples of 16, so its quality-95 covers are the same quality re-applied on the
same 8 x 8 grid: nearly a fixed point of decompress / recompress, whose unrounded
decompression stays closer to integers than that of a once-compressed photo, which is what
the reverse JPEG-compatibility statistic (:func:`stegnet_research.dctr.rjca`) reads. Here
the same photos are cropped at offsets 0, 3 and 4 pixels off that grid, compressed at
quality 95, and +-1-changed by conseal's nsF5 simulator in the luminance (0.2 bpnzAC of
Y); the AUC of RJCA between covers and stegos (no threshold) is reported per offset.

``python -m stegnet_research.jpegalign --photos 40`` (training-side photos; ~1 s each)
writes ``OUT/rjca-alignment.json``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from stegnet_research import dctr, jpegstudy
from stegnet_research.detection_stats import detection_scores

OFFSETS = (0, 3, 4)


def rjca_pair(image: np.ndarray, offset: int, size: int, quality: int, rate: float,
              seed: int) -> tuple[float, float]:
    """(cover, stego) RJCA of the ``size`` crop ``offset`` pixels off the centred 16-grid
    crop of ``image``."""
    import conseal as cl

    from stegnet import jpegio

    top = min((image.shape[0] - size) // 2 // 16 * 16 + offset, image.shape[0] - size)
    left = min((image.shape[1] - size) // 2 // 16 * 16 + offset, image.shape[1] - size)
    cover = jpegio.compress(np.ascontiguousarray(image[top : top + size, left : left + size]),
                            quality)
    luma = cl.nsF5.simulate_single_channel(y0=cover.components[0].astype(np.int64),
                                           alpha=rate, seed=seed)
    flat = cover.coefficients().astype(np.int64)
    flat[: luma.size] = luma.reshape(-1)
    stego = cover.with_coefficients(flat)
    return (dctr.rjca(cover.components, cover.quant_tables),
            dctr.rjca(stego.components, stego.quant_tables))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m stegnet_research.jpegalign",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=jpegstudy.Settings.data)
    parser.add_argument("--out", default=jpegstudy.Settings.out)
    parser.add_argument("--photos", type=int, default=40)
    parser.add_argument("--quality", type=int, default=95)
    parser.add_argument("--rate", type=float, default=0.2)
    args = parser.parse_args(argv)
    from stegnet_research.data import load_photo

    settings = jpegstudy.Settings(data=args.data)
    photos = jpegstudy.select_photos(settings)["train"][: args.photos]
    images = [load_photo(p, settings.size + 8) for p in photos]
    results = {}
    for offset in OFFSETS:
        pairs = [rjca_pair(image, offset, settings.size, args.quality, args.rate, seed)
                 for seed, image in enumerate(images)]
        clean, stego = [p[0] for p in pairs], [p[1] for p in pairs]
        results[str(offset)] = {"cover_rjca_mean": round(float(np.mean(clean)), 5),
                                "stego_rjca_mean": round(float(np.mean(stego)), 5),
                                **detection_scores(clean, stego)}
    result = {"study": "rjca-alignment", "doc": __doc__, "quality": args.quality,
              "rate_bpnzac_luma": args.rate, "photos": [p.name for p in photos],
              "note": "accuracy: best threshold on these same images (optimistic)",
              "offsets": results}
    path = Path(args.out, "rjca-alignment.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(results, indent=1))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
