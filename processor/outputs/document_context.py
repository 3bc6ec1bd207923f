"""What the Word templates are filled with: results + catalogue -> plain dicts (SPEC §6).

Pure functions, no I/O. The keys are the Jinja tags of the templates in ``input_templates/``
(Vietnamese without diacritics, like the catalogue's setting keys) so a clerk who rewords a
template can read them. Lists are grouped by unit in unit code order, then sorted by Vietnamese
name order (`vietnamese.name_sort_key`). Annexes carry the birth year only: a public
decision never shows a CCCD number or a full birth date.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable
from typing import Any

import pandas as pd

from processor.domain import schema as S
from processor.domain.catalogue import Catalogue, Signing, Title, parse_signing
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
    return "" if value is None or is_missing(value) else nfc(str(value))


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


def punctuate(items: list[str]) -> list[str]:
    """Căn cứ and Nơi nhận: each line ends with `;`, the last with `.` (NĐ 30/2020, Phụ lục I)."""
    lines = [line for line in (nfc(i).rstrip(" ;.,") for i in items) if line]
    return [line + (";" if i < len(lines) - 1 else ".") for i, line in enumerate(lines)]


def _lower_first(text: str) -> str:
    """`Thị trấn Phong Sơn` -> `thị trấn Phong Sơn`; a code or an acronym (`CD03`, `UBND`)
    keeps its case."""
    if text[1:2].isupper() or text[1:2].isdigit():
        return text
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

PLACEHOLDER = "…"  # a fact the clerk must still write in, in a setting (default_catalogue)
# The settings the papers read (sheet Cấu hình); none of them changes a result.
DOCUMENT_SETTINGS = (
    "ten_tinh",
    "ten_huyen",
    "ten_xa",
    "dia_danh",
    "co_quan_ban_hanh",
    "chuc_vu_thu_truong",
    "ky_hieu_quyet_dinh",
    "ky_hieu_to_trinh",
    "tham_quyen_ky",
    "chuc_vu_ky",
    "nguoi_ky",
    "so_ke_hoach",
    "ngay_ke_hoach",
    "ten_ban_chi_dao",
    "ten_ban_van_dong",
    "can_cu",
    "xet_de_nghi",
    "quyen_loi",
    "thi_hanh",
    "so_vao_so",
    "noi_nhan",
)


def placeholders(catalogue: Catalogue) -> list[str]:
    """The settings still holding a placeholder `…`, as `key: value` (quyet-dinh warns)."""
    return [
        f"{key}: {value}"
        for key, values in catalogue.settings.items()
        for value in values
        if PLACEHOLDER in value or "..." in value
    ]


def _signature_lines(catalogue: Catalogue) -> tuple[list[str], list[str], bool]:
    """The chairman's signature lines, the collective's, and whether the collective issues.

    DOCUMENT_FORMAT §4: `CHỦ TỊCH` or `KT. CHỦ TỊCH` / `PHÓ CHỦ TỊCH` for the chairman; the
    same under `TM. ỦY BAN NHÂN DÂN` for the collective. TM. never goes with the chairman.
    """
    setting = catalogue.setting
    signing = parse_signing(setting("tham_quyen_ky")) or Signing(collective=False, deputy=True)
    head = setting("chuc_vu_thu_truong", "Chủ tịch")
    chairman = [f"KT. {head}", setting("chuc_vu_ky")] if signing.deputy else [head]
    agency = setting("co_quan_ban_hanh", "Ủy ban nhân dân")
    collective = [f"TM. {agency}", *chairman]
    return [u.upper() for u in chairman], [u.upper() for u in collective], signing.collective


def ward_context(catalogue: Catalogue, year: int) -> dict[str, Any]:
    """What every template takes from the settings (sheet Cấu hình), nothing hard-coded."""
    setting = catalogue.setting
    agency = setting("co_quan_ban_hanh", "Ủy ban nhân dân")
    head = setting("chuc_vu_thu_truong", "Chủ tịch")
    ward = setting("ten_xa")
    chairman, collective, by_collective = _signature_lines(catalogue)
    # The issuer of a decision: the body itself, or its chairman (DOCUMENT_FORMAT §3).
    body = f"{agency} {_lower_first(ward)}"
    issuer = body if by_collective else f"{head} {body}"
    steering = setting("ten_ban_chi_dao", "Ban Chỉ đạo xây dựng các danh hiệu kiểu mẫu")
    place = setting("dia_danh") or ward
    district = setting("ten_huyen")
    titles = {t.level: t.name for t in catalogue.titles}
    plan = _plan(catalogue, year, agency, ward)
    proposal = setting("xet_de_nghi")
    extra = nfc(setting("quyen_loi")).strip(" ;.,")
    return {
        "nam": year,
        "ten_tinh": setting("ten_tinh"),
        "ten_huyen": district,
        "ten_xa": ward,
        "ten_xa_thuong": _lower_first(ward),
        "dia_danh": place,
        "co_quan_ban_hanh": agency,
        "co_quan_ban_hanh_ngan": _initials(agency),
        "ky_hieu": setting("ky_hieu_quyet_dinh", "QĐ-UBND"),
        "ky_hieu_to_trinh": setting("ky_hieu_to_trinh", "TTr-UBND"),
        "tham_quyen": issuer.upper(),
        "nguoi_ban_hanh": issuer,
        "chu_tich": f"{head} {body}",
        "chu_tich_hoa": f"{head} {body}".upper(),
        "chuc_danh_ky": collective if by_collective else chairman,
        "chuc_danh_ky_chu_tich": chairman,
        "chuc_danh_ky_tap_the": collective,
        "nguoi_ky": setting("nguoi_ky"),
        "ten_ban_chi_dao": steering,
        "kinh_gui": steering if place in steering else f"{steering} {place}",
        "kinh_gui_huyen": f"{head} {agency} huyện {district}".strip(),
        "can_cu": punctuate([*catalogue.setting_list("can_cu"), f"Căn cứ {plan}", proposal]),
        "can_cu_to_trinh": punctuate([*catalogue.setting_list("can_cu"), f"Căn cứ {plan}"]),
        "quyen_loi": f", {_lower_first(extra)}" if extra else "",
        "thi_hanh": ", ".join(nfc(x).strip(" ;.,") for x in catalogue.setting_list("thi_hanh")),
        "noi_nhan": punctuate(catalogue.setting_list("noi_nhan")),
        "ten_cd": titles.get(S.LEVEL_CITIZEN, ""),
        "ten_gd": titles.get(S.LEVEL_HOUSEHOLD, ""),
        "ten_tdp": titles.get(S.LEVEL_UNIT, ""),
        "ke_hoach": plan,
        "ten_ban_van_dong": setting(
            "ten_ban_van_dong", "Ban Vận động xây dựng các danh hiệu kiểu mẫu"
        ),
    }


def _plan(catalogue: Catalogue, year: int, agency: str, ward: str) -> str:
    number, day = catalogue.setting("so_ke_hoach"), catalogue.setting("ngay_ke_hoach")
    try:
        day = date_vi(dt.datetime.strptime(day, "%d/%m/%Y").date())
    except ValueError:
        day = f"ngày {day.removeprefix('ngày ')}" if day else ""
    head = f"Kế hoạch số {number} {day}".strip() if number else "Kế hoạch"
    return (
        f"{head} của {agency} {_lower_first(ward)} về phát động thi đua xây dựng các "
        f"danh hiệu kiểu mẫu năm {year}"
    )


# --- lists ----------------------------------------------------------------------------------------


def _ordered(frame: pd.DataFrame, name_column: str | None) -> pd.DataFrame:
    """Grouped by unit (code order), then Vietnamese name order (SPEC §6)."""
    units = _keyed(_col(frame, "unit_code"), code_key)
    names = (
        _keyed([_text(n) for n in _col(frame, name_column)], name_sort_key)
        if name_column
        else units
    )
    return frame.iloc[sorted(range(len(frame)), key=lambda i: (units[i], names[i]))]


def _keyed(values: list[Any], key: Callable[[Any], tuple]) -> list[tuple]:
    """Each value's sort key, made once per distinct value: a decision's rows repeat a few
    hundred units, and a name's key takes tens of microseconds."""
    made = {value: key(value) for value in dict.fromkeys(values)}
    return [made[value] for value in values]


def _unit_names(catalogue: Catalogue, frame: pd.DataFrame) -> list[str]:
    """The catalogue's name of each row's unit: one name in every paper, even after a rename."""
    names = []
    for code, name in zip(_col(frame, "unit_code"), _col(frame, "unit_name"), strict=True):
        unit = catalogue.unit(str(code))
        names.append(unit.name if unit else _text(name) or str(code))
    return names


def _add_votes(
    catalogue: Catalogue, rows: list[Row], frame: pd.DataFrame, attendees: Any
) -> list[Row]:
    """Votes, their share of the meeting's attendees in %, and the meeting's conclusion."""
    # A unit's candidates share a few dozen reasons: each is worded once.
    worded: dict[Any, str] = {}
    names = _criterion_names(catalogue)
    for row, vote, outcome, reason in zip(
        rows, _col(frame, "votes"), _col(frame, "outcome"), _col(frame, "reason"), strict=True
    ):
        row["so_phieu"] = _number(vote)
        try:
            share = 100 * float(vote) / float(attendees)
        except (TypeError, ValueError, ZeroDivisionError):
            share = float("nan")
        row["ty_le_phieu"] = "" if is_missing(share) else format_number(share)
        row["de_nghi"] = outcome == S.ACHIEVED
        if reason not in worded:
            worded[reason] = _without_codes(names, reason)
        row["ket_luan"] = _conclusion(outcome, worded[reason])
    return rows


def without_codes(catalogue: Catalogue, reason: Any) -> str:
    """A Lý do as a paper prints it: criteria by their names, without their codes.

    In a tổ dân phố's paper "TDP01 - Hộ đạt GĐKM" reads as the unit TDP01; the summary keeps the
    codes, which the clerk filters on.
    """
    return _without_codes(_criterion_names(catalogue), reason)


def _criterion_names(catalogue: Catalogue) -> list[tuple[str, str]]:
    """Each criterion's label (`CD01 - Chấp hành pháp luật`) and its name without the code."""
    return [(criterion.label, criterion.short_name) for criterion in catalogue.criteria]


def _without_codes(names: list[tuple[str, str]], reason: Any) -> str:
    text = _text(reason)
    # Whole labels only: a unit code may be spelt like a criterion code (TDP01 is both).
    for label, name in names:
        text = text.replace(label, name)
    return text


def _conclusion(outcome: Any, reason: Any) -> str:
    """The Biên bản's conclusion for a candidate: `Đề nghị`, or `Không đề nghị` and why."""
    if outcome == S.ACHIEVED:
        return "Đề nghị"
    why = _text(reason).strip(" .;")
    return f"Không đề nghị: {_lower_first(why)}" if why else "Không đề nghị"


def citizen_rows(
    catalogue: Catalogue,
    frame: pd.DataFrame,
    attendees: Any = None,
    heads: dict[tuple[str, str], str] | None = None,
) -> list[Row]:
    """One row per citizen: STT, name, birth year, unit, household (and gender, votes)."""
    frame = _ordered(frame, "full_name")
    heads = heads or {}
    rows = [
        {
            "stt": i + 1,
            "ho_ten": _text(name),
            "nam_sinh": _birth_year(year, born),
            "don_vi": unit,
            "ghi_chu": "",
            "gioi_tinh": _text(gender),
            "ma_don_vi": str(code),
            "ma_ho": _text(household),
            "chu_ho": heads.get((str(code), _text(household)), ""),
        }
        for i, (name, year, born, unit, gender, code, household) in enumerate(
            zip(
                _col(frame, "full_name"),
                _col(frame, "birth_year"),
                _col(frame, "birth_date"),
                _unit_names(catalogue, frame),
                _col(frame, "gender"),
                _col(frame, "unit_code"),
                _col(frame, "household_code"),
                strict=True,
            )
        )
    ]
    return _add_votes(catalogue, rows, frame, attendees)


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
            "ma_ho": _text(household),
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
    return _add_votes(catalogue, rows, frame, attendees)


def unit_rows(catalogue: Catalogue, frame: pd.DataFrame) -> list[Row]:
    frame = _ordered(frame, None)
    return [
        {
            "stt": i + 1,
            "ten": unit,
            "so_ho": _number(households),
            "ty_le": format_number(float(rate), 1) if _number(rate) else "",
            "ghi_chu": "",
            "ma_don_vi": str(code),
        }
        for i, (unit, households, rate, code) in enumerate(
            zip(
                _unit_names(catalogue, frame),
                _col(frame, "households"),
                _col(frame, "household_rate"),
                _col(frame, "unit_code"),
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


def heads_of_households(households: pd.DataFrame | None) -> dict[tuple[str, str], str]:
    """(unit code, household code) -> the head's name, to show a citizen's household."""
    if households is None or households.empty:
        return {}
    return {
        (str(u), _text(h)): _text(n)
        for u, h, n in zip(
            _col(households, "unit_code"),
            _col(households, "household_code"),
            _col(households, "head_name"),
            strict=True,
        )
    }


def recognised(results: Any, title: Title) -> pd.DataFrame:
    """The entities a title's annex lists: its recognised ones, never a cơ quan for the TDP
    title."""
    if title.level == S.LEVEL_CITIZEN:
        return achieved(results.citizens)
    if title.level == S.LEVEL_HOUSEHOLD:
        return achieved(results.households)
    units = achieved(results.units)
    return units[units["kind"] != S.UNIT_KIND_AGENCY] if "kind" in units else units


def annex_rows(
    catalogue: Catalogue,
    title: Title,
    frame: pd.DataFrame,
    genders: dict[tuple[str, str], str] | None = None,
) -> list[Row]:
    """The annex of a title's decision from its `recognised` entities (``genders``: see
    `genders`, for the household title's ông / bà)."""
    if title.level == S.LEVEL_CITIZEN:
        return citizen_rows(catalogue, frame)
    if title.level == S.LEVEL_HOUSEHOLD:
        return household_rows(catalogue, frame, None, genders)
    return unit_rows(catalogue, frame) if not frame.empty else []


def recognised_rows(catalogue: Catalogue, results: Any, title: Title) -> list[Row]:
    """The annex of a title's decision."""
    heads = genders(results) if title.level == S.LEVEL_HOUSEHOLD else None
    return annex_rows(catalogue, title, recognised(results, title), heads)


# --- per document -----------------------------------------------------------------------------


def _groups(rows: list[Row]) -> list[dict[str, Any]]:
    """The annex by unit: one heading and one table per unit, STT running across them.

    One table per unit rather than one long table: LibreOffice lays a long table out in
    quadratic time, tables of a few hundred rows stay linear; and a unit can be cut out of the
    list for its own meeting.
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


def title_context(ward: dict[str, Any], title: Title, rows: list[Row]) -> dict[str, Any]:
    """A title's list, for a decision (xã) or the town's Tờ trình to the district (huyện)."""
    level, noun = LEVELS[title.level]
    merit = title.certificate == S.CERTIFICATE_MERIT
    verb = "tặng" if merit else "cấp"
    return {
        **ward,
        "cap": level,
        "doi_tuong": noun,
        "ma_danh_hieu": title.code,
        "ten_danh_hieu": title.name,
        "hinh_thuc": title.certificate,
        "cap_giay": f"{verb} {title.certificate}",
        "dong_tu": verb.upper(),
        "so_luong": count_with_words(len(rows)),
        "danh_sach": rows,
        "nhom": _groups(rows) if level != "don_vi" else [],
    }


decision_context = title_context


def certificate_contexts(
    decision: dict[str, Any], first_number: int = 1
) -> list[tuple[str | None, dict[str, Any]]]:
    """Certificate files: one per unit for people and families, one for a unit title.

    Per unit because certificates are handed out unit by unit, and because a file of many
    thousand pages is more than Word or LibreOffice handle with ease. Register numbers
    (`Số vào sổ`) run from ``first_number`` in the annex's order.
    """
    whole = certificate_context(decision, first_number)
    if decision["cap"] == "don_vi":
        return [(None, whole)]
    by_unit: dict[str, list[Row]] = {}
    for entry in whole["danh_sach"]:
        by_unit.setdefault(entry["ma_don_vi"], []).append(entry)
    return [(code, {**whole, "danh_sach": entries}) for code, entries in by_unit.items()]


def certificate_context(decision: dict[str, Any], first_number: int = 1) -> dict[str, Any]:
    """One entry per certificate: who it names, where they live, its register number."""
    district = decision["ten_huyen"]
    if district and not district.lower().startswith("huyện"):
        district = f"huyện {district}"
    address = ", ".join(p for p in (decision["ten_xa_thuong"], district) if p)
    tdp = fold(S.UNIT_KIND_TDP)
    entries = []
    for number, row in enumerate(decision["danh_sach"], start=first_number):
        polite = {S.MALE: "ông", S.FEMALE: "bà"}.get(row.get("gioi_tinh", ""), "ông (bà)")
        if decision["cap"] == "cong_dan":
            name, where = f"{polite.capitalize()} {row['ho_ten']}", f"{row['don_vi']}, {address}"
        elif decision["cap"] == "ho_gia_dinh":
            name = f"Gia đình {polite} {row['chu_ho']}"
            # Addresses often carry the tổ dân phố already ("Số 5, Phố Mới, Tổ dân phố 1").
            unit = "" if tdp in fold(row["dia_chi"]) else row["don_vi"]
            where = ", ".join(p for p in (row["dia_chi"], unit, address) if p)
        else:
            name, where = row["ten"], address
        entries.append(
            {
                "stt": row["stt"],
                "so_vao_so": number,
                "nguoi_nhan": name,
                "noi_o": where,
                "ma_don_vi": row.get("ma_don_vi"),
            }
        )
    # The annex's groups stay with the decision: a certificate file prints its entries only, and
    # carrying a district's whole annex into each of its hundreds of files cost seconds.
    return {**decision, "danh_sach": entries, "nhom": []}


def district_context(ward: dict[str, Any], title: Title, rows: list[Row]) -> dict[str, Any]:
    """The town's Tờ trình to the district's chairman for a title the district recognises,
    with the proposed units' own Tờ trình and Biên bản as its dossier."""
    context = title_context(ward, title, rows)
    proposals = list(dict.fromkeys(r.get("ten") or r.get("don_vi") for r in rows))
    attached = [
        f"Danh sách {context['doi_tuong']} đề nghị công nhận danh hiệu “{title.name}” "
        f"năm {ward['nam']}",
        f"Tờ trình, Biên bản họp bình xét của {len(proposals)} đơn vị: {', '.join(proposals)}",
    ]
    return {**context, "ho_so": punctuate(attached)}


def _unit_record(results: Any, code: str) -> dict[str, Any]:
    units = results.units
    if units is None or units.empty:
        return {}
    match = units[units["unit_code"] == code]
    return (
        {k: (None if is_missing(v) else v) for k, v in match.iloc[0].items()} if len(match) else {}
    )


def _candidates(frame: pd.DataFrame | None, code: str, proposal: bool) -> pd.DataFrame:
    """A unit's candidates: those it proposes (Đạt), or every one voted on or proposed."""
    if frame is None or frame.empty:
        return pd.DataFrame(columns=["unit_code"])
    frame = frame[frame["unit_code"] == code]
    if proposal:
        return achieved(frame)
    voted = frame["votes"].notna() if "votes" in frame else pd.Series(False, index=frame.index)
    return frame[voted | frame["outcome"].eq(S.ACHIEVED)] if "outcome" in frame else frame[voted]


def unit_context(
    ward: dict[str, Any], catalogue: Catalogue, results: Any, code: str, *, proposal: bool
) -> dict[str, Any]:
    """Tờ trình (``proposal``: the candidates the unit proposes) or Biên bản (every candidate
    voted on, each with its conclusion). Both come from the unit's Ban Vận động, whose header
    has the unit itself above it and whose Tờ trình is signed TM. BAN VẬN ĐỘNG (DOCUMENT_FORMAT
    §8): never the town's UBND, which is not a school's or a health station's superior body.
    """
    unit = catalogue.unit(code)
    record = _unit_record(results, code)
    is_tdp = unit.is_tdp if unit else record.get("kind") == S.UNIT_KIND_TDP
    attendees = record.get("attendees")
    name = unit.name if unit else _text(record.get("unit_name")) or code
    heads = heads_of_households(results.households)
    citizens = citizen_rows(
        catalogue, _candidates(results.citizens, code, proposal), attendees, heads
    )
    households = (
        household_rows(catalogue, _candidates(results.households, code, proposal), attendees)
        if is_tdp
        else []
    )
    unit_title = catalogue.unit_title
    board = f"{ward['ten_ban_van_dong']} {name}"
    count = _number(attendees)
    return {
        **ward,
        "ten_don_vi": name,
        "chu_quan": name.upper(),
        "la_to_dan_pho": is_tdp,
        "ban_van_dong": board,
        "ky_hieu_to_trinh_don_vi": "TTr-BVĐ",
        "ky_hieu_bien_ban": "BB-BVĐ",
        "truong_ban": (unit.head if unit else "") or DOTS,
        "cong_dan": citizens,
        "so_cong_dan": count_with_words(len(citizens)),
        "cong_dan_de_nghi": count_with_words(sum(r["de_nghi"] for r in citizens)),
        "gia_dinh": households,
        "so_gia_dinh": count_with_words(len(households)),
        "gia_dinh_de_nghi": count_with_words(sum(r["de_nghi"] for r in households)),
        "ten_tdp": unit_title.name,
        "cap_cong_nhan_tdp": "Chủ tịch UBND huyện" if unit_title.by_district else "Chủ tịch UBND",
        "de_nghi_to_dan_pho": _unit_proposal(ward, catalogue, record, name),
        "ngay_hop": _day(record.get("meeting_date"), ward["nam"]),
        "dia_diem": f"{'Nhà văn hóa' if is_tdp else 'Trụ sở'} {name}",
        "thanh_phan": f"{_present(board, name, is_tdp)}; tổng số {count or DOTS} người "
        "(có danh sách ký tên kèm theo)",
        "chu_tri": _text(record.get("chair")) or DOTS,
        "thu_ky": _text(record.get("secretary")) or DOTS,
        "so_nguoi_du_hop": f"{count or DOTS} người",
        "nguong_phieu": _thresholds(catalogue, is_tdp),
    }


def _unit_proposal(
    ward: dict[str, Any], catalogue: Catalogue, record: dict[str, Any], name: str
) -> str:
    """What the unit's papers say of the tổ dân phố title for the unit itself: proposed, with
    its share of households, or not yet, with the criteria it failed named in words."""
    if record.get("outcome") == S.ACHIEVED:
        rate = format_number(float(record.get("household_rate") or 0), 1)
        return f"đề nghị công nhận {name} (tỷ lệ hộ đạt danh hiệu “{ward['ten_gd']}”: {rate}%)."
    why = without_codes(catalogue, record.get("reason")).strip(" .;")
    return f"chưa đủ điều kiện đề nghị năm {ward['nam']}" + (
        f" ({_lower_first(why)})." if why else "."
    )


def _present(board: str, name: str, is_tdp: bool) -> str:
    """Who the vote meeting gathers: the board and the households, or the agency's staff."""
    if is_tdp:
        return f"{board}; đại diện các hộ gia đình trong {name}"
    return f"{board}; cán bộ, công chức, viên chức và người lao động của {name}"


def _registered(frame: pd.DataFrame | None, code: str, min_age: int | None) -> pd.DataFrame:
    """A unit's rows registered for the title (and old enough for it, where it has an age)."""
    if frame is None or frame.empty or "registered" not in frame:
        return pd.DataFrame(columns=["unit_code"])
    mine = frame[(frame["unit_code"] == code) & (frame["registered"] == S.YES)]
    if min_age and "age" in mine:
        mine = mine[pd.to_numeric(mine["age"], errors="coerce").ge(min_age).fillna(False)]
    return mine


def posting_context(
    ward: dict[str, Any], catalogue: Catalogue, results: Any, code: str, period: str
) -> dict[str, Any]:
    """The list a unit posts and reads at its vote meeting (niêm yết, bình xét): everyone
    registered for a title in ``period``'s results, birth year and household only."""
    unit = catalogue.unit(code)
    name = unit.name if unit else code
    is_tdp = unit.is_tdp if unit else False
    heads = heads_of_households(results.households)
    citizen_title = catalogue.citizen_title
    citizens = citizen_rows(
        catalogue, _registered(results.citizens, code, citizen_title.min_age), None, heads
    )
    households = (
        household_rows(catalogue, _registered(results.households, code, None)) if is_tdp else []
    )
    year, month = period.split("-")
    return {
        **ward,
        "ten_don_vi": name,
        "chu_quan": name.upper(),
        "la_to_dan_pho": is_tdp,
        "ky": f"đến tháng {int(month)} năm {year}",
        "dia_diem": f"{'Nhà văn hóa' if is_tdp else 'Trụ sở'} {name}",
        "truong_ban": (unit.head if unit else "") or DOTS,
        "cong_dan": citizens,
        "so_cong_dan": count_with_words(len(citizens)),
        "gia_dinh": households,
        "so_gia_dinh": count_with_words(len(households)),
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
    """Every tổ dân phố in the results, and any cơ quan with a recognised candidate; never a
    unit the catalogue no longer lists (its papers would name a unit that is gone)."""
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
    return sorted((c for c in codes if catalogue.unit(c) is not None), key=code_key)
