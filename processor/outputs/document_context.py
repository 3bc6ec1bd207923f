"""What the Word templates are filled with: results + catalogue -> plain dicts (SPEC §6).

Pure functions, no I/O. The keys are the Jinja tags of the templates in ``input_templates/``
(Vietnamese without diacritics, like the catalogue's setting keys) so a clerk who rewords a
template can read them. Lists are grouped by unit in unit code order, then sorted by Vietnamese
name order (`vietnamese.name_sort_key`). Annexes carry the birth year only: a public
decision never shows a CCCD number or a full birth date.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from typing import Any

import pandas as pd

from processor.domain import schema as S
from processor.domain.catalogue import Catalogue, Title
from processor.domain.cells import is_missing
from processor.domain.vietnamese import (
    count_with_words,
    date_vi,
    fold,
    format_number,
    name_sort_key,
    nfc,
)

BLANK = "      "  # room for the clerk: `ngày      tháng      năm 2021`
DOTS = "…………………"  # a fact the forms did not give, to be written in by hand
# Level of a title -> (the templates' `cap`, the noun Điều 1 counts).
LEVELS = {
    S.LEVEL_CITIZEN: ("cong_dan", "công dân"),
    S.LEVEL_HOUSEHOLD: ("ho_gia_dinh", "gia đình"),
    S.LEVEL_UNIT: ("don_vi", "tổ dân phố"),
}
Row = dict[str, Any]


# --- values ---------------------------------------------------------------------------------------


def _text(value: Any) -> str:
    """NFC text with spaces collapsed; NaN/None -> "" (forms may bring NFD from macOS)."""
    try:  # names, units and genders repeat across a district's 200,000 recognised rows
        return _text_of(type(value), value)
    except TypeError:  # an unhashable value
        return _plain_text(value)


def _plain_text(value: Any) -> str:
    return "" if value is None or is_missing(value) else nfc(str(value))


@functools.lru_cache(maxsize=1 << 16)
def _text_of(kind: type, value: Any) -> str:  # keyed by type too: 1, 1.0 and True differ
    return _plain_text(value)


def _col(frame: pd.DataFrame, name: str) -> list[Any]:
    """A column as a list; an absent column (an empty frame) reads as empty values."""
    return frame[name].tolist() if name in frame else [None] * len(frame)


def _number(value: Any) -> str:
    """`25`, `12,5`; "" when missing; text that is not a number is shown as it is."""
    if value is None or is_missing(value):
        return ""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return _text(value)
    return str(int(number)) if number.is_integer() else format_number(number, 1)


def _punctuate(items: list[str]) -> list[str]:
    """Căn cứ and Nơi nhận: each line ends with `;`, the last with `.` (NĐ 30/2020, Phụ lục I)."""
    lines = [line for line in (nfc(i).rstrip(" ;.,") for i in items) if line]
    return [line + (";" if i < len(lines) - 1 else ".") for i, line in enumerate(lines)]


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _initials(text: str) -> str:
    """`Ủy ban nhân dân` -> `UBND` (tone marks dropped, Đ kept)."""
    letters = (
        w[0] if w[0] in "Đđ" else unicodedata.normalize("NFD", w[0])[0] for w in text.split()
    )
    return "".join(letters).upper()


def code_key(code: str) -> tuple:
    """Unit code order, numbers compared as numbers (TDP2 < TDP10)."""
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", str(code)))


def _birth_year(year: Any, born: Any) -> str:
    if year is not None and not is_missing(year):
        return str(int(year))
    return str(born.year) if isinstance(born, dt.date) and not is_missing(born) else ""


def _day(value: Any, year: int) -> str:
    """`ngày 05 tháng 11 năm 2021`, or blanks for the clerk when the date is unknown."""
    if isinstance(value, dt.date) and not is_missing(value):
        return date_vi(value)
    return f"ngày{BLANK}tháng{BLANK}năm {year}"


def achieved(frame: pd.DataFrame | None) -> pd.DataFrame:
    """The recognised rows (outcome `Đạt`) of a results frame."""
    if frame is None or frame.empty or "outcome" not in frame:
        return pd.DataFrame(columns=["unit_code"])
    return frame[frame["outcome"] == S.ACHIEVED]


# --- the ward, from the catalogue's settings ------------------------------------------------------


def ward_context(catalogue: Catalogue, year: int) -> dict[str, Any]:
    """What every template takes from the settings (sheet Cấu hình), nothing hard-coded."""
    setting = catalogue.setting
    agency = setting("co_quan_ban_hanh", "Ủy ban nhân dân")
    issuer = setting("nguoi_ban_hanh", "Chủ tịch Ủy ban nhân dân")
    ward = setting("ten_xa")
    # "Chủ tịch Ủy ban nhân dân" -> the head's title "Chủ tịch" and "Chủ tịch UBND".
    head = issuer.replace(agency, "").strip() if agency in issuer else issuer
    on_behalf = setting("tham_quyen_ky").strip().upper().startswith("KT")
    steering = setting("ten_ban_chi_dao", "Ban chỉ đạo xây dựng các danh hiệu kiểu mẫu")
    place = setting("dia_danh") or ward
    titles = {t.level: t.name for t in catalogue.titles}
    rights = _punctuate([setting("quyen_loi")])
    return {
        "nam": year,
        "ten_tinh": setting("ten_tinh"),
        "ten_huyen": setting("ten_huyen"),
        "ten_xa": ward,
        "ten_xa_thuong": _lower_first(ward),
        "dia_danh": place,
        "co_quan_ban_hanh": agency,
        "co_quan_ban_hanh_ngan": _initials(agency),
        "ky_hieu": setting("ky_hieu_quyet_dinh", "QĐ-UBND"),
        "nguoi_ban_hanh": issuer,
        "nguoi_ban_hanh_ngan": issuer.replace(agency, _initials(agency)),
        # TM. -> TM. ỦY BAN NHÂN DÂN / CHỦ TỊCH; KT. -> … / KT. CHỦ TỊCH / PHÓ CHỦ TỊCH.
        "ky_thay": on_behalf,
        "thu_truong": head,
        "chuc_vu_ky": setting("chuc_vu_ky") if on_behalf else head,
        "nguoi_ky": setting("nguoi_ky"),
        "ten_ban_chi_dao": steering,
        "kinh_gui": steering if place in steering else f"{steering} {place}",
        "can_cu": _punctuate(catalogue.setting_list("can_cu")),
        "quyen_loi": rights[0] if rights else "",
        "noi_nhan": _punctuate(catalogue.setting_list("noi_nhan")),
        "ten_cd": titles.get(S.LEVEL_CITIZEN, ""),
        "ten_gd": titles.get(S.LEVEL_HOUSEHOLD, ""),
        "ten_tdp": titles.get(S.LEVEL_UNIT, ""),
        "ke_hoach": _plan(catalogue, year, agency, ward),
    }


def _plan(catalogue: Catalogue, year: int, agency: str, ward: str) -> str:
    number, day = catalogue.setting("so_ke_hoach"), catalogue.setting("ngay_ke_hoach")
    try:
        day = date_vi(dt.datetime.strptime(day, "%d/%m/%Y").date())
    except ValueError:
        day = f"ngày {day}" if day else ""
    head = f"Kế hoạch số {number} {day}".strip() if number else "Kế hoạch"
    return (
        f"{head} của {agency} {_lower_first(ward)} về phát động thi đua xây dựng các "
        f"danh hiệu kiểu mẫu năm {year}"
    )


# --- lists ----------------------------------------------------------------------------------------


# The same names are sorted for the decision, the Tờ trình and the Biên bản: compute keys once.
_name_key = functools.lru_cache(maxsize=1 << 17)(name_sort_key)


def _ordered(frame: pd.DataFrame, name_column: str | None) -> pd.DataFrame:
    """Grouped by unit (code order), then Vietnamese name order (SPEC §6)."""
    units = [code_key(c) for c in _col(frame, "unit_code")]
    names = [_name_key(_text(n)) for n in _col(frame, name_column)] if name_column else units
    return frame.iloc[sorted(range(len(frame)), key=lambda i: (units[i], names[i]))]


def _unit_names(catalogue: Catalogue, frame: pd.DataFrame) -> list[str]:
    names = []
    for code, name in zip(_col(frame, "unit_code"), _col(frame, "unit_name"), strict=True):
        unit = catalogue.unit(str(code))
        names.append(_text(name) or (unit.name if unit else str(code)))
    return names


def _add_votes(rows: list[Row], frame: pd.DataFrame, attendees: Any) -> list[Row]:
    """Votes in favour and their share of the meeting's attendees, in % (Biên bản, Tờ trình)."""
    for row, vote in zip(rows, _col(frame, "votes"), strict=True):
        row["so_phieu"] = _number(vote)
        try:
            share = 100 * float(vote) / float(attendees)
        except (TypeError, ValueError, ZeroDivisionError):
            share = float("nan")
        row["ty_le_phieu"] = "" if is_missing(share) else format_number(share)
    return rows


def citizen_rows(catalogue: Catalogue, frame: pd.DataFrame, attendees: Any = None) -> list[Row]:
    """One row per citizen: STT, name, birth year, unit (and gender for the certificate)."""
    frame = _ordered(frame, "full_name")
    rows = [
        {
            "stt": i + 1,
            "ho_ten": _text(name),
            "nam_sinh": _birth_year(year, born),
            "don_vi": unit,
            "ghi_chu": "",
            "gioi_tinh": _text(gender),
            "ma_don_vi": str(code),
        }
        for i, (name, year, born, unit, gender, code) in enumerate(
            zip(
                _col(frame, "full_name"),
                _col(frame, "birth_year"),
                _col(frame, "birth_date"),
                _unit_names(catalogue, frame),
                _col(frame, "gender"),
                _col(frame, "unit_code"),
                strict=True,
            )
        )
    ]
    return _add_votes(rows, frame, attendees)


def household_rows(
    catalogue: Catalogue,
    frame: pd.DataFrame,
    attendees: Any = None,
    genders: dict[tuple[str, str], str] | None = None,
) -> list[Row]:
    frame = _ordered(frame, "head_name")
    genders = genders or {}
    rows = [
        {
            "stt": i + 1,
            "chu_ho": _text(head),
            "dia_chi": _text(address),
            "don_vi": unit,
            "ghi_chu": "",
            "gioi_tinh": genders.get((_text(household), _text(head)), ""),
            "ma_don_vi": str(code),
        }
        for i, (head, address, unit, household, code) in enumerate(
            zip(
                _col(frame, "head_name"),
                _col(frame, "address"),
                _unit_names(catalogue, frame),
                _col(frame, "household_code"),
                _col(frame, "unit_code"),
                strict=True,
            )
        )
    ]
    return _add_votes(rows, frame, attendees)


def unit_rows(catalogue: Catalogue, frame: pd.DataFrame) -> list[Row]:
    frame = _ordered(frame, None)
    return [
        {
            "stt": i + 1,
            "ten": unit,
            "so_ho": _number(households),
            "ty_le": f"{format_number(float(rate), 1)}%" if _number(rate) else "",
            "ghi_chu": "",
        }
        for i, (unit, households, rate) in enumerate(
            zip(
                _unit_names(catalogue, frame),
                _col(frame, "households"),
                _col(frame, "household_rate"),
                strict=True,
            )
        )
    ]


def genders(results: Any) -> dict[tuple[str, str], str]:
    """(household code, name) -> gender, to write ông / bà for a head of household."""
    citizens = results.citizens
    if citizens is None or citizens.empty:
        return {}
    return {
        (_text(h), _text(n)): _text(g)
        for h, n, g in zip(
            _col(citizens, "household_code"),
            _col(citizens, "full_name"),
            _col(citizens, "gender"),
            strict=True,
        )
    }


def recognised_rows(catalogue: Catalogue, results: Any, title: Title) -> list[Row]:
    """The annex of a title's decision; cơ quan are never candidates for the TDP title."""
    if title.level == S.LEVEL_CITIZEN:
        return citizen_rows(catalogue, achieved(results.citizens))
    if title.level == S.LEVEL_HOUSEHOLD:
        return household_rows(catalogue, achieved(results.households), None, genders(results))
    units = achieved(results.units)
    if "kind" in units:
        units = units[units["kind"] != S.UNIT_KIND_AGENCY]
    return unit_rows(catalogue, units) if not units.empty else []


# --- per document -----------------------------------------------------------------------------


def _groups(rows: list[Row]) -> list[dict[str, Any]]:
    """The annex by unit: one heading and one table per unit, STT running across them.

    One table per unit rather than one long table: LibreOffice lays a long table out in
    quadratic time (2,000 rows: 9 s, 4,000: 29 s, 13,700: 12 min), tables of a few hundred
    rows stay linear; and a unit can be cut out of the list for its own meeting.
    """
    groups: list[dict[str, Any]] = []
    for row in rows:
        if not groups or groups[-1]["ma_don_vi"] != row.get("ma_don_vi"):
            groups.append(
                {"ma_don_vi": row.get("ma_don_vi"), "ten": row["don_vi"], "danh_sach": []}
            )
        groups[-1]["danh_sach"].append(row)
    for group in groups:
        group["so_luong"] = len(group["danh_sach"])
    return groups


def decision_context(ward: dict[str, Any], title: Title, rows: list[Row]) -> dict[str, Any]:
    """A Quyết định: the flat list `danh_sach` and the same list by unit, `nhom`."""
    level, noun = LEVELS[title.level]
    return {
        **ward,
        "cap": level,
        "doi_tuong": noun,
        "ten_danh_hieu": title.name,
        "so_luong": count_with_words(len(rows)),
        "danh_sach": rows,
        "nhom": _groups(rows) if level != "don_vi" else [],
    }


def certificate_contexts(decision: dict[str, Any]) -> list[tuple[str | None, dict[str, Any]]]:
    """Giấy khen files: one per unit for people and families, one for the tổ dân phố title.

    Per unit because certificates are handed out unit by unit, and because a 13,000-page file
    is more than Word or LibreOffice handle with ease (2,000 pages: 13 s to PDF, growing faster
    than the page count).
    """
    whole = certificate_context(decision)
    if decision["cap"] == "don_vi":
        return [(None, whole)]
    by_unit: dict[str, list[Row]] = {}
    for entry in whole["danh_sach"]:
        by_unit.setdefault(entry["ma_don_vi"], []).append(entry)
    return [(code, {**whole, "danh_sach": entries}) for code, entries in by_unit.items()]


def certificate_context(decision: dict[str, Any]) -> dict[str, Any]:
    """One entry per Giấy khen: who it names and where they live."""
    district = decision["ten_huyen"]
    if district and not district.lower().startswith("huyện"):
        district = f"huyện {district}"
    address = ", ".join(p for p in (decision["ten_xa_thuong"], district) if p)
    entries = []
    for row in decision["danh_sach"]:
        polite = {S.MALE: "ông", S.FEMALE: "bà"}.get(row.get("gioi_tinh", ""), "ông (bà)")
        if decision["cap"] == "cong_dan":
            name, where = f"{polite.capitalize()} {row['ho_ten']}", f"{row['don_vi']}, {address}"
        elif decision["cap"] == "ho_gia_dinh":
            name = f"Gia đình {polite} {row['chu_ho']}"
            # Addresses often carry the tổ dân phố already ("Số 5, Phố Mới, Tổ dân phố 1").
            known = fold(row["dia_chi"])
            unit = "" if fold(S.UNIT_KIND_TDP) in known else row["don_vi"]
            where = ", ".join(p for p in (row["dia_chi"], unit, address) if p)
        else:
            name, where = row["ten"], address
        entries.append(
            {
                "stt": row["stt"],
                "nguoi_nhan": name,
                "noi_o": where,
                "ma_don_vi": row.get("ma_don_vi"),
            }
        )
    return {**decision, "danh_sach": entries}


def _unit_record(results: Any, code: str) -> dict[str, Any]:
    units = results.units
    if units is None or units.empty:
        return {}
    match = units[units["unit_code"] == code]
    return (
        {k: (None if is_missing(v) else v) for k, v in match.iloc[0].items()} if len(match) else {}
    )


def unit_context(
    ward: dict[str, Any], catalogue: Catalogue, results: Any, code: str, *, proposal: bool
) -> dict[str, Any]:
    """Tờ trình (``proposal``: the unit's recognised candidates) or Biên bản (all voted on)."""
    unit = catalogue.unit(code)
    record = _unit_record(results, code)
    is_tdp = unit.is_tdp if unit else record.get("kind") == S.UNIT_KIND_TDP
    attendees = record.get("attendees")
    name = unit.name if unit else _text(record.get("unit_name")) or code

    def pick(frame: pd.DataFrame | None) -> pd.DataFrame:
        if frame is None or frame.empty:
            return pd.DataFrame(columns=["unit_code"])
        frame = frame[frame["unit_code"] == code]
        if proposal:
            return achieved(frame)
        return frame[frame["votes"].notna()] if "votes" in frame else frame.iloc[0:0]

    citizens = citizen_rows(catalogue, pick(results.citizens), attendees)
    households = household_rows(catalogue, pick(results.households), attendees) if is_tdp else []
    if record.get("outcome") == S.ACHIEVED:
        rate = format_number(float(record.get("household_rate") or 0), 1)
        unit_proposal = (
            f'đề nghị công nhận {name} (tỷ lệ hộ đạt danh hiệu "{ward["ten_gd"]}": {rate}%).'
        )
    else:
        unit_proposal = f"chưa đủ điều kiện đề nghị năm {ward['nam']}."
    meeting = _day(record.get("meeting_date"), ward["nam"])
    return {
        **ward,
        "ten_don_vi": name,
        "la_to_dan_pho": is_tdp,
        "ky_hieu_to_trinh": "TTr-TDP" if is_tdp else "TTr-BVĐ",
        "truong_ban": (unit.head if unit else "") or DOTS,
        "cong_dan": citizens,
        "so_cong_dan": count_with_words(len(citizens)),
        "gia_dinh": households,
        "so_gia_dinh": count_with_words(len(households)),
        "de_nghi_to_dan_pho": unit_proposal,
        "ngay_hop": meeting,
        "thoi_gian": meeting,
        "dia_diem": f"{'Nhà văn hóa' if is_tdp else 'Trụ sở'} {name}",
        "chu_tri": _text(record.get("chair")) or DOTS,
        "thu_ky": _text(record.get("secretary")) or DOTS,
        "so_nguoi_du_hop": f"{_number(attendees) or DOTS} người",
        "nguong_phieu": _thresholds(catalogue, is_tdp),
    }


def _thresholds(catalogue: Catalogue, is_tdp: bool) -> str:
    """`50%`, or `50% (công dân), 60% (gia đình)` when the titles differ (sheet Danh hiệu)."""
    titles = [catalogue.citizen_title, *([catalogue.household_title] if is_tdp else [])]
    shares = [f"{_number(50 if t.vote_threshold is None else t.vote_threshold)}%" for t in titles]
    if len(set(shares)) == 1:
        return shares[0]
    return ", ".join(
        f"{share} ({LEVELS[t.level][1]})" for share, t in zip(shares, titles, strict=True)
    )


def units_with_documents(catalogue: Catalogue, results: Any) -> list[str]:
    """Every tổ dân phố in the results, and any cơ quan with a recognised candidate."""
    codes: set[str] = set()
    for frame in (results.citizens, results.households, results.units):
        if frame is None or frame.empty:
            continue
        for code in frame["unit_code"].dropna().astype(str).unique():
            unit = catalogue.unit(code)
            if unit is not None and unit.is_tdp:
                codes.add(code)
        codes.update(achieved(frame)["unit_code"].dropna().astype(str))
    units = results.units
    if units is not None and not units.empty and "kind" in units:
        codes.update(units.loc[units["kind"] == S.UNIT_KIND_TDP, "unit_code"].astype(str))
    return sorted(codes, key=code_key)
