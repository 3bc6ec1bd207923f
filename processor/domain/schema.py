"""Sheet and column definitions, declared once.

The catalogue reader, the form writer, the form reader and the reports all take their sheet
names and column labels from here (STYLE: schemas as data). Criterion columns are not here:
they come from the catalogue.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = "text"  # text | int | number | date | choice | code
    required: bool = False
    choices: tuple[str, ...] = ()
    width: float = 14
    note: str = ""


@dataclass(frozen=True)
class Sheet:
    name: str
    columns: tuple[Column, ...] = field(default_factory=tuple)

    def by_key(self, key: str) -> Column:
        for column in self.columns:
            if column.key == key:
                return column
        raise KeyError(key)

    def label(self, key: str) -> str:
        return self.by_key(key).label


YES, NO = "Có", "Không"
PASS, FAIL = "Đạt", "Chưa đạt"
MALE, FEMALE = "Nam", "Nữ"
YES_NO = (YES, NO)
PASS_FAIL = (PASS, FAIL)


class Outcome(StrEnum):
    """The result of scoring one citizen, household or unit for its title (SPEC §4 step 4).

    The values are the words the results show; code compares members, never the words.
    """

    ACHIEVED = "Đạt"
    NOT_ACHIEVED = "Chưa đạt"  # failed for certain, whatever the blank cells turn out to be
    NOT_ELIGIBLE = "Chưa đủ điều kiện"  # not a candidate, or not decidable from the data given


ACHIEVED, NOT_ACHIEVED, NOT_ELIGIBLE = Outcome.ACHIEVED, Outcome.NOT_ACHIEVED, Outcome.NOT_ELIGIBLE

# Levels of a title, as written in the catalogue's `Cấp` column.
LEVEL_CITIZEN, LEVEL_HOUSEHOLD, LEVEL_UNIT = "Công dân", "Hộ gia đình", "Đơn vị"
UNIT_KIND_TDP, UNIT_KIND_AGENCY = "Tổ dân phố", "Cơ quan"
# Who recognises a title (sheet Danh hiệu): the town decides, or it proposes to the district.
RECOGNISED_BY_TOWN, RECOGNISED_BY_DISTRICT = "Xã", "Huyện"
# What the recognised receive, named alike in the decision's Điều 2 and on the certificate.
CERTIFICATE_RECOGNITION, CERTIFICATE_MERIT = "Giấy công nhận", "Giấy khen"

COMPARATORS = ("≥", ">", "≤", "<", "=")
# Comparators typed without the special characters.
COMPARATOR_ALIASES = {">=": "≥", "<=": "≤", "==": "="}

# --- the criteria catalogue (SPEC §2) ---------------------------------------------------------

CAT_README = "Đọc trước"
CAT_TITLES = Sheet(
    "Danh hiệu",
    (
        Column("code", "Mã danh hiệu", "code", True, width=14),
        Column("name", "Tên danh hiệu", required=True, width=26),
        Column("level", "Cấp", "choice", True, (LEVEL_CITIZEN, LEVEL_HOUSEHOLD, LEVEL_UNIT), 14),
        Column("min_age", "Tuổi tối thiểu", "int", width=14),
        Column("min_criteria", "Số tiêu chí đạt tối thiểu", "int", width=20),
        Column("min_points", "Số điểm tối thiểu", "number", width=16),
        Column("vote_threshold", "Ngưỡng phiếu bình xét (%)", "number", width=20),
        Column("registration_required", "Bắt buộc đăng ký tháng 1", "choice", True, YES_NO, 20),
        Column(
            "recognised_by",
            "Cấp công nhận",
            "choice",
            False,
            (RECOGNISED_BY_TOWN, RECOGNISED_BY_DISTRICT),
            14,
            "Xã: Chủ tịch UBND thị trấn ra quyết định; Huyện: thị trấn lập tờ trình lên huyện.",
        ),
        Column(
            "certificate",
            "Hình thức công nhận",
            "choice",
            False,
            (CERTIFICATE_RECOGNITION, CERTIFICATE_MERIT),
            18,
            "Ghi ở Điều 2 của quyết định và in trên giấy chứng nhận.",
        ),
    ),
)
# The `Tiêu chí` sheet is declared in catalogue.py (CAT_CRITERIA), beside the criterion kinds
# its `Loại` column offers: the kinds read cells, and the cell parsers take their words from here.
CAT_TASKS = Sheet(
    "Phần việc",
    (
        Column("criterion", "Mã tiêu chí", "code", True, width=12),
        Column("code", "Mã phần việc", "code", True, width=14),
        Column("text", "Nội dung phần việc", required=True, width=70),
    ),
)
CAT_UNITS = Sheet(
    "Đơn vị",
    (
        Column("code", "Mã đơn vị", "code", True, width=12),
        Column("name", "Tên đơn vị", required=True, width=30),
        Column("kind", "Loại", "choice", True, (UNIT_KIND_TDP, UNIT_KIND_AGENCY), 14),
        Column("head", "Trưởng Ban vận động", width=26),
        Column("email", "Email", width=30),
    ),
)
CAT_SETTINGS = Sheet(
    "Cấu hình",
    (
        Column("key", "Khóa", "code", True, width=22),
        Column("description", "Ý nghĩa", width=50),
        Column("value", "Giá trị", width=80),
    ),
)

# --- the forms (SPEC §3) ------------------------------------------------------------------

FORM_GUIDE = "Hướng dẫn"
FORM_META = "_meta"
FORM_INFO = Sheet(
    "Thông tin",
    (
        Column("unit_code", "Mã đơn vị", "code", True),
        Column("unit_name", "Tên đơn vị"),
        Column("period", "Kỳ báo cáo", "code", True),
        Column("reporter", "Người báo cáo"),
        Column("phone", "Số điện thoại", "code"),
        Column("report_date", "Ngày báo cáo", "date"),
        Column("meeting_date", "Ngày họp bình xét", "date"),
        Column("attendees", "Số người dự họp", "int"),
        Column("chair", "Chủ trì cuộc họp"),
        Column("secretary", "Thư ký cuộc họp"),
    ),
)
FORM_CITIZENS = Sheet(
    "Công dân",
    (
        Column("row_no", "STT", "int", width=6),
        Column("household_code", "Mã hộ", "code", True, width=12),
        Column("full_name", "Họ và tên", required=True, width=26),
        Column("birth_date", "Ngày sinh", "date", True, width=13),
        Column("gender", "Giới tính", "choice", False, (MALE, FEMALE), 10),
        Column("cccd", "Số CCCD", "code", False, width=16),
        Column("registered", "Đăng ký", "choice", False, YES_NO, 10),
    ),
)
FORM_HOUSEHOLDS = Sheet(
    "Hộ gia đình",
    (
        Column("row_no", "STT", "int", width=6),
        Column("household_code", "Mã hộ", "code", True, width=12),
        Column("head_name", "Chủ hộ", required=True, width=26),
        Column("address", "Địa chỉ", width=30),
        Column("registered", "Đăng ký", "choice", False, YES_NO, 10),
    ),
)
FORM_UNIT = Sheet(
    "Tổ dân phố",
    (
        Column("criterion", "Mã tiêu chí", "code", True, width=11),
        Column("task", "Mã phần việc", "code", width=13),
        Column("text", "Nội dung", width=55),
        Column("current_state", "Thực trạng", width=24),
        Column("planned_month", "Tháng hoàn thành dự kiến", "int", width=14),
        Column("responsible", "Người phụ trách", width=20),
        Column("self_assessment", "Tự đánh giá", "choice", False, PASS_FAIL, 13),
        Column("inspection", "Kết quả kiểm tra của BCĐ", "choice", False, PASS_FAIL, 16),
        Column("value", "Giá trị đo được", "number", width=12),
    ),
)
# Columns after the criterion columns on the citizen and household sheets.
VOTES = Column("votes", "Số phiếu đồng ý", "int", width=12)
NOTE = Column("note", "Ghi chú", width=24)

# The columns of a unit's progress row (SPEC §5 `Tiến độ`), in order: the scorer makes them and
# the store keeps them, adding the period.
PROGRESS_COLUMNS = (
    "unit_code",
    "unit_name",
    "title",
    "assessed",
    "registered_share",
    "achieved_share",
)

META_KEYS = ("form_code", "form_version", "catalogue_fingerprint", "unit_code", "period")
FORM_CODE = "KIEUMAU-BM"
FORM_VERSION = 1

# --- the summary workbook (SPEC §5) ------------------------------------------------------------

OUT_OVERVIEW = "Tổng quan"
OUT_BY_UNIT = "Theo đơn vị"
OUT_BY_CRITERION = "Theo tiêu chí"
OUT_CITIZENS = "Công dân"
OUT_HOUSEHOLDS = "Hộ gia đình"
OUT_UNITS = "Tổ dân phố"
OUT_PROGRESS = "Tiến độ"
OUT_MISSING = "Chưa nộp"
OUT_ISSUES = "Lỗi dữ liệu"
OUT_SOURCES = "Nguồn"

RESULT_LABELS = {
    "unit_code": "Mã đơn vị",
    "unit_name": "Tên đơn vị",
    "household_code": "Mã hộ",
    "full_name": "Họ và tên",
    "head_name": "Chủ hộ",
    "birth_year": "Năm sinh",
    "birth_date": "Ngày sinh",
    "cccd": "Số CCCD",
    "gender": "Giới tính",
    "age": "Tuổi",
    "address": "Địa chỉ",
    "registered": "Đăng ký",
    "votes": "Số phiếu đồng ý",
    "attendees": "Số người dự họp",
    "vote_share": "Tỷ lệ phiếu (%)",
    "members": "Số thành viên",
    "members_achieved": "Số thành viên đạt CDKM",
    "households": "Số hộ",
    "households_achieved": "Số hộ đạt",
    "household_rate": "Tỷ lệ hộ đạt (%)",
    "citizens": "Số công dân",
    "citizens_achieved": "Số công dân đạt",
    "citizens_registered": "Số công dân đăng ký",
    "citizens_not_registered": "Số công dân không được xét vì đăng ký",
    "households_registered": "Số hộ đăng ký",
    "households_not_registered": "Số hộ không được xét vì đăng ký",
    "criteria_passed": "Số tiêu chí đạt",
    "points": "Tổng điểm",
    "outcome": "Kết quả",
    "reason": "Lý do",
    "kind": "Loại",
}
