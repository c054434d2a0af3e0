"""Draw a fitted identity model's match weights as an SVG bar chart (for docs/identity.md).

    cdp resolve people.csv --out persons.csv ... --model-out model.json
    python scripts/match_weight_chart.py model.json docs/img/match_weights.svg [--title T]

The model is ``result.stats["model"]`` of ``identity.resolve`` (also a row of
``identity.match_models``): one bar per comparison level, green for evidence for a match,
red against, hatched levels are held for review. Plain SVG, no plotting library.
"""

from __future__ import annotations

import argparse
import json
from html import escape
from pathlib import Path

ROW, LABEL_W, BAR_W, PAD = 18, 230, 420, 10


def svg(model: dict, title: str) -> str:
    rows = [
        (field, lv["name"], float(lv["weight"]), lv["review"])
        for field, levels in model["comparisons"].items()
        for lv in levels
    ]
    limit = max(1.0, max(abs(w) for _, _, w, _ in rows))
    zero = LABEL_W + BAR_W / 2
    scale = (BAR_W / 2 - PAD) / limit
    height = PAD * 4 + ROW * (len(rows) + 2)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{LABEL_W + BAR_W + 60}" '
        f'height="{height}" font-family="sans-serif" font-size="11">',
        '<defs><pattern id="held" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="3" height="6" fill="#fff" '
        'fill-opacity="0.55"/></pattern></defs>',
        f'<text x="{PAD}" y="{PAD + 12}" font-size="13" font-weight="bold">{escape(title)}</text>',
        f'<text x="{PAD}" y="{PAD + 28}">prior {model["prior"]:.3f} over '
        f"{model['candidate_pairs']:,} candidate pairs; weight = log2(m/u) in bits; "
        "hatched: held for review</text>",
    ]
    top = PAD * 3 + ROW * 2
    out.append(
        f'<line x1="{zero}" y1="{top - 4}" x2="{zero}" y2="{top + ROW * len(rows)}" stroke="#333"/>'
    )
    for i, (field, level, weight, review) in enumerate(rows):
        y = top + i * ROW
        width = abs(weight) * scale
        x = zero if weight >= 0 else zero - width
        color = "#2e7d32" if weight >= 0 else "#c62828"
        out.append(f'<text x="{PAD}" y="{y + 12}">{escape(field)} · {escape(level)}</text>')
        out.append(
            f'<rect x="{x:.1f}" y="{y + 2}" width="{width:.1f}" height="{ROW - 5}" fill="{color}"/>'
        )
        if review != "no":
            out.append(
                f'<rect x="{x:.1f}" y="{y + 2}" width="{width:.1f}" height="{ROW - 5}" '
                'fill="url(#held)"/>'
            )
        tx = zero + width + 4 if weight >= 0 else zero - width - 36
        out.append(f'<text x="{tx:.1f}" y="{y + 12}">{weight:+.1f}</text>')
    out.append("</svg>")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path, help="fitted model JSON (cdp resolve --model-out)")
    parser.add_argument("out", type=Path, help="SVG file to write")
    parser.add_argument("--title", default="Match weights estimated by cdp resolve")
    args = parser.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(svg(json.loads(args.model.read_text()), args.title), encoding="utf-8")


if __name__ == "__main__":
    main()
