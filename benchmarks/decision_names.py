"""Time one Quyết định (with its annex) for N recognised names: does it scale linearly?

    /work/venv/bin/python benchmarks/decision_names.py                 # 5,000, 10,000, 20,000
    /work/venv/bin/python benchmarks/decision_names.py --names 10000 --repeat 3

Each size is built from the default catalogue's units with seeded Vietnamese names (some with
`&`, so the escaping path is measured too), then `document_context` builds the decision's context
and `documents._Renderer` renders `input_templates/quyet_dinh.docx`, as `kieumau quyet-dinh`
does for one title. Printed: seconds (best of --repeat), µs per name and the ratio of each size's
per-name cost to the smallest one's (1.0 = linear). Results go to
`benchmarks/results/decision-names-<date>.json`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))

from processor.domain import schema as S  # noqa: E402
from processor.domain.catalogue import load_catalogue  # noqa: E402
from processor.outputs import document_context as ctx  # noqa: E402
from processor.outputs.documents import DEFAULT_TEMPLATES, _Renderer  # noqa: E402
from processor.scoring.score import Results  # noqa: E402

SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Ngô"]
MIDDLE = ["Văn", "Thị", "Đức", "Minh", "Ngọc", "Thu", "Hữu", "Quang"]
GIVEN = ["An", "Bình", "Chi", "Dũng", "Hà", "Hạnh", "Khoa", "Lan", "Mai", "Nam", "Sơn", "Yến"]


def recognised(names: int, seed: int = 2021) -> Results:
    catalogue = load_catalogue()
    units = [u for u in catalogue.units if u.is_tdp]
    rng = random.Random(seed)
    rows = []
    for i in range(names):
        unit = units[i % len(units)]
        born = dt.date(1940 + rng.randrange(60), rng.randrange(1, 13), rng.randrange(1, 28))
        name = f"{rng.choice(SURNAMES)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"
        rows.append(
            {
                "unit_code": unit.code,
                "unit_name": unit.name,
                "household_code": f"{unit.code}-H{i // 4:05d}",
                "full_name": name + (" & Con" if i % 997 == 0 else ""),
                "birth_date": born,
                "birth_year": born.year,
                "gender": rng.choice([S.MALE, S.FEMALE]),
                "votes": 30.0,
                "outcome": S.ACHIEVED,
                "reason": "",
            }
        )
    return Results(pd.DataFrame(rows), pd.DataFrame(), pd.DataFrame())


def time_decision(names: int, repeat: int, folder: Path) -> float:
    catalogue = load_catalogue()
    results = recognised(names)
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        rows = ctx.recognised_rows(catalogue, results, catalogue.citizen_title)
        decision = ctx.decision_context(
            ctx.ward_context(catalogue, 2021), catalogue.citizen_title, rows
        )
        _Renderer(DEFAULT_TEMPLATES).render("quyet_dinh", decision, folder / f"qd_{names}.docx")
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--names", type=int, nargs="+", default=[5_000, 10_000, 20_000])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--results", type=Path, default=BENCH / "results")
    args = parser.parse_args()
    sizes = sorted(args.names)
    figures = []
    with tempfile.TemporaryDirectory() as folder:
        for names in sizes:
            seconds = time_decision(names, args.repeat, Path(folder))
            figures.append({"names": names, "seconds": round(seconds, 3)})
    base = figures[0]["seconds"] / figures[0]["names"]
    print(f"{'names':>8} {'seconds':>8} {'µs/name':>8} {'x linear':>8}")
    for row in figures:
        per_name = row["seconds"] / row["names"]
        row["linearity"] = round(per_name / base, 2)
        print(f"{row['names']:>8,} {row['seconds']:>8.2f} {per_name * 1e6:>8.0f} "
              f"{row['linearity']:>8.2f}")  # fmt: skip
    args.results.mkdir(parents=True, exist_ok=True)
    out = args.results / f"decision-names-{dt.date.today().isoformat()}.json"
    out.write_text(json.dumps({"repeat": args.repeat, "figures": figures}, indent=2))
    print(f"results: {out}")


if __name__ == "__main__":
    main()
