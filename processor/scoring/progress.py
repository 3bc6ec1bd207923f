"""Progress per unit and title, the month's line of the trend (SPEC §5 `Tiến độ`)."""

from __future__ import annotations

import pandas as pd

from processor.domain import schema as S
from processor.domain.catalogue import Catalogue
from processor.scoring.score import Results


def progress_rows(results: Results, catalogue: Catalogue, units: pd.DataFrame) -> pd.DataFrame:
    """Per unit and title: how many are assessed, the share registered and the share achieved."""
    rows = []
    names = units.set_index("unit_code")["unit_name"]
    for title, frame in (
        (catalogue.citizen_title, results.citizens),
        (catalogue.household_title, results.households),
    ):
        if frame.empty:
            continue
        grouped = frame.assign(
            reg=frame["registered"].eq(S.YES), ok=frame["outcome"].eq(S.ACHIEVED)
        ).groupby("unit_code")
        summary = grouped.agg(assessed=("ok", "size"), reg=("reg", "mean"), ok=("ok", "mean"))
        for unit, row in summary.iterrows():
            rows.append(
                {
                    "unit_code": unit,
                    "unit_name": names.get(unit),
                    "title": title.name,
                    "assessed": int(row["assessed"]),
                    "registered_share": round(float(row["reg"]) * 100, 1),
                    "achieved_share": round(float(row["ok"]) * 100, 1),
                }
            )
    tdp = results.units[results.units["kind"] == S.UNIT_KIND_TDP]
    title = catalogue.unit_title
    for _, row in tdp.iterrows():
        if row["unit_code"] not in set(units.loc[units["submitted"], "unit_code"]):
            continue
        rows.append(
            {
                "unit_code": row["unit_code"],
                "unit_name": row["unit_name"],
                "title": title.name,
                "assessed": 1,
                "registered_share": None,
                "achieved_share": 100.0 if row["outcome"] == S.ACHIEVED else 0.0,
            }
        )
    return pd.DataFrame(rows, columns=list(S.PROGRESS_COLUMNS))
