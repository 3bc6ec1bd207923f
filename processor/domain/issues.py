"""Problems found in the input, as data (STYLE: errors meant for users are data).

Each kind of problem has a stable code, a severity and one Vietnamese message template that
says what is wrong and how to fix it. Messages live here together so they can be reviewed.

Severities and what they mean for the counts (SPEC §4 step 2):

- ``lỗi`` (ERROR): what it points at is not counted. A file refused, or a row rejected because it
  cannot be attributed to one person or household of the unit (no name, the same person twice,
  a row of another unit), or a value the whole file depends on (the meeting's attendees). Only
  rows with a ``lỗi`` on them are counted as rejected.
- ``cảnh báo`` that asks for a fix (``Kind.fix``): the row is counted, but one of its cells could
  not be read (or is blank where a value is needed): the cell is unknown (NA) until the unit
  fixes it, and its text as typed is kept (the frames' ``_raw`` column).
- ``cảnh báo``: read, with the meaning the message states; the unit should check it.

Every issue of the first two kinds needs fixing (``Issue.needs_fix``): a run that meets one
exits 1.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

ERROR = "lỗi"  # the row or the file is rejected
WARNING = "cảnh báo"  # accepted, with a warning

# Said after the message of every cell kept as unknown, so each one tells the unit the same.
_KEPT = " Người/hộ vẫn được tính; ô này coi như chưa có giá trị cho đến khi được sửa."


@dataclass(frozen=True)
class Kind:
    severity: str
    template: str
    fix: bool = False  # a warning that still asks the unit to fix the cell (read as unknown)


KINDS: dict[str, Kind] = {
    # --- the file as a whole -----------------------------------------------------------------
    "FILE_NOT_SPREADSHEET": Kind(
        ERROR,
        "Tệp không phải bảng tính Excel/LibreOffice ({detail}). Hãy gửi lại đúng tệp biểu mẫu "
        "(.xlsx, .xls, .ods).",
    ),
    "FILE_CORRUPT": Kind(
        ERROR,
        "Tệp bị hỏng hoặc không đọc được ({detail}). Hãy mở tệp trong Excel, lưu lại rồi gửi lại.",
    ),
    "FILE_PASSWORD": Kind(
        ERROR,
        "Tệp được đặt mật khẩu nên không đọc được. Hãy gỡ mật khẩu (Tệp > Thông tin > Bảo vệ sổ "
        "làm việc) rồi gửi lại bản không mật khẩu.",
    ),
    "FILE_TOO_LARGE": Kind(
        ERROR,
        "Tệp quá lớn hoặc có dấu hiệu bom nén ({detail}); đã từ chối mà không mở để bảo vệ máy. "
        "Hãy gửi lại đúng biểu mẫu của đơn vị (thường chỉ vài trăm KB).",
    ),
    "FILE_FORMAT_UNSUPPORTED": Kind(
        ERROR,
        "Định dạng {detail} chưa được hỗ trợ. Hãy mở tệp rồi chọn Lưu thành (Save As) kiểu "
        "Excel Workbook (.xlsx) và gửi lại.",
    ),
    "FILE_IGNORED": Kind(
        WARNING,
        "Tệp tạm hoặc tệp ẩn ({detail}) nên được bỏ qua. Nếu đây là biểu mẫu, hãy đổi tên tệp "
        "(không bắt đầu bằng dấu chấm hoặc ~$) rồi chạy lại.",
    ),
    "FILE_NAME_NOT_UTF8": Kind(
        WARNING,
        "Tên tệp có ký tự không đọc được (không phải mã UTF-8); tệp vẫn được đọc và được ghi là "
        "{detail}. Nên đổi tên tệp (chỉ dùng chữ, số, dấu gạch) để tránh nhầm.",
    ),
    "FILE_LINK_OUTSIDE": Kind(
        ERROR,
        "Đây là lối tắt (liên kết) trỏ ra ngoài thư mục nhận tệp ({detail}); không đọc và không "
        "lưu trữ. Hãy chép chính tệp biểu mẫu vào thư mục nhận tệp.",
    ),
    "OUTPUT_FOLDER_SKIPPED": Kind(
        WARNING,
        "Thư mục này chứa kết quả do kieumau ghi (nhật ký chạy hoặc kho lịch sử) nên không được "
        "đọc như tệp gửi về. Nên để thư mục kết quả ở ngoài thư mục nhận tệp.",
    ),
    "FILE_UNSAFE_XML": Kind(
        ERROR,
        "Tệp chứa cấu trúc XML không an toàn ({detail}); đã từ chối. Hãy lưu lại biểu mẫu bằng "
        "Excel hoặc LibreOffice rồi gửi lại.",
    ),
    "FILE_EMPTY": Kind(
        ERROR,
        "Tệp không có dữ liệu (trống hoặc chưa có dòng nào được điền); không được tính. Hãy "
        "điền biểu mẫu rồi gửi lại.",
    ),
    "FILE_DUPLICATE": Kind(
        WARNING,
        "Tệp trùng hoàn toàn với tệp {detail} (cùng nội dung); chỉ tính một lần.",
    ),
    "FILE_SUPERSEDED": Kind(
        WARNING,
        "Đơn vị đã gửi bản mới hơn cho kỳ này ({detail}); bản này không được tính.",
    ),
    "FILE_WITHDRAWN": Kind(
        WARNING,
        "Cán bộ tổng hợp đã bỏ đơn vị {detail} khỏi kỳ này (--bo-don-vi); tệp không được tính. "
        "Bản đơn vị gửi sau đó sẽ được tính.",
    ),
    "FILE_UNIDENTIFIED": Kind(
        ERROR,
        "Không xác định được đơn vị của tệp (thiếu sheet _meta và ô Mã đơn vị). Hãy dùng biểu "
        "mẫu do UBND gửi, hoặc ghi Mã đơn vị tại sheet Thông tin.",
    ),
    "FILE_NO_META": Kind(
        WARNING,
        "Tệp thiếu sheet _meta hoặc ô Mã đơn vị/Kỳ báo cáo; đã nhận diện là {detail} theo tiêu "
        "đề trong tệp. Kỳ sau hãy dùng đúng biểu mẫu do UBND gửi.",
    ),
    "FILE_UNKNOWN_UNIT": Kind(
        ERROR,
        "Mã đơn vị '{detail}' không có trong danh sách đơn vị của Bộ tiêu chí. Hãy kiểm tra lại "
        "Mã đơn vị tại sheet Thông tin.",
    ),
    "FILE_OTHER_PERIOD": Kind(
        ERROR,
        "Biểu mẫu là của kỳ {detail}, không phải kỳ đang tổng hợp ({value}); không được tính "
        "vào kỳ này. Hãy gửi biểu mẫu đúng kỳ.",
    ),
    "FILE_PERIOD_INVALID": Kind(
        ERROR,
        "Kỳ báo cáo '{value}' không hợp lệ. Hãy dùng biểu mẫu do UBND gửi, hoặc ghi kỳ dạng "
        "NĂM-THÁNG (ví dụ 2021-11) tại sheet Thông tin.",
    ),
    "FILE_UNIT_MISMATCH": Kind(
        ERROR,
        "Mã đơn vị trong sheet Thông tin ({detail}) khác với biểu mẫu được cấp. Hãy dùng đúng "
        "biểu mẫu của đơn vị mình.",
    ),
    "FILE_OLD_VERSION": Kind(
        WARNING,
        "Biểu mẫu được tạo từ Bộ tiêu chí cũ hơn ({detail}); vẫn đọc được. Kỳ sau hãy dùng biểu "
        "mẫu mới.",
    ),
    "FILE_INCOMPATIBLE_VERSION": Kind(
        ERROR,
        "Biểu mẫu phiên bản {detail} không còn tương thích. Hãy dùng biểu mẫu mới do UBND gửi.",
    ),
    # --- sheets and columns ------------------------------------------------------------------
    "SHEET_MISSING": Kind(
        ERROR,
        "Không tìm thấy sheet '{detail}' (có thể đã bị đổi tên hoặc xóa); dữ liệu của sheet này "
        "chưa được tính. Hãy khôi phục sheet với đúng tên như biểu mẫu gốc rồi gửi lại.",
    ),
    "SHEET_RENAMED": Kind(
        WARNING,
        "Sheet '{value}' đã bị đổi tên (tên đúng: '{detail}'); vẫn đọc được theo dòng tiêu đề. "
        "Hãy đặt lại tên sheet là '{detail}'.",
    ),
    "SHEET_TOO_LARGE": Kind(
        ERROR,
        "Sheet có dữ liệu tận ô {detail}, quá xa vùng biểu mẫu nên không đọc được (sẽ tốn rất "
        "nhiều bộ nhớ); cả sheet bị loại (tệp .xls/.ods: cả tệp). Hãy xóa các ô thừa ở xa rồi "
        "gửi lại.",
    ),
    "HEADER_MISSING": Kind(
        ERROR,
        "Không tìm thấy dòng tiêu đề (có cột 'STT' và '{detail}'). Không sửa dòng tiêu đề của "
        "biểu mẫu.",
    ),
    "COLUMN_MISSING": Kind(
        ERROR,
        "Thiếu cột '{detail}' nên không biết các dòng là của ai; các dòng của sheet chưa được "
        "tính. Hãy khôi phục cột này như biểu mẫu gốc.",
    ),
    "COLUMN_MISSING_KEPT": Kind(
        WARNING,
        "Thiếu cột '{detail}'; các dòng vẫn được tính nhưng cột này coi như trống. Hãy khôi phục "
        "cột này như biểu mẫu gốc.",
        fix=True,
    ),
    "CRITERION_COLUMN_MISSING": Kind(
        WARNING,
        "Thiếu cột tiêu chí '{detail}'; tiêu chí này coi như chưa đánh giá.",
    ),
    "COLUMN_EXTRA": Kind(
        WARNING,
        "Cột '{detail}' không có trong biểu mẫu nên được bỏ qua. Nếu đây là cột của biểu mẫu, "
        "hãy ghi lại đúng tiêu đề gốc.",
    ),
    "MERGED_CELLS": Kind(
        WARNING,
        "Có ô bị gộp ({detail}); chỉ ô đầu tiên được đọc. Hãy bỏ gộp ô và điền từng ô.",
    ),
    "FORMULA": Kind(
        WARNING,
        "Ô chứa công thức{detail}; chỉ đọc được kết quả đã lưu trong tệp (nếu tệp không lưu kết "
        "quả thì coi như ô trống). Hãy nhập trực tiếp giá trị thay cho công thức.",
    ),
    "TOO_MANY_ROWS": Kind(
        ERROR,
        "Sheet có {value} dòng, vượt giới hạn {detail} dòng của một đơn vị; cả sheet (tệp "
        ".xls/.ods: cả tệp) không được đọc và mọi dòng bị loại. Hãy kiểm tra lại (có thể đã dán "
        "nhầm dữ liệu) rồi gửi lại.",
    ),
    # --- cells ---------------------------------------------------------------------------------
    "ROW_UNREADABLE": Kind(
        ERROR,
        "Dòng này có ô không đọc được (thường là một số âm hoặc quá lớn trong ô định dạng Ngày); "
        "cả dòng chưa được tính. Hãy kiểm tra và nhập lại các ô của dòng này.",
    ),
    "VALUE_REQUIRED": Kind(
        ERROR,
        "Thiếu '{detail}' nên không biết dòng này là của ai; dòng chưa được tính. Hãy điền ô này.",
    ),
    "VALUE_MISSING": Kind(
        WARNING,
        "Thiếu '{detail}'; kết quả cần ô này sẽ là Chưa đủ điều kiện. Hãy điền ô này." + _KEPT,
        fix=True,
    ),
    "NAME_INVALID": Kind(
        ERROR,
        "Họ và tên '{value}' không có chữ cái nào (có thể là công thức hoặc số) nên không biết "
        "dòng này là của ai; dòng chưa được tính. Hãy gõ lại họ và tên.",
    ),
    "HEAD_NAME_INVALID": Kind(
        WARNING,
        "Chủ hộ '{value}' không có chữ cái nào (có thể là công thức hoặc số). Hãy gõ lại họ và "
        "tên chủ hộ." + _KEPT,
        fix=True,
    ),
    "VALUE_NOT_ALLOWED": Kind(
        WARNING,
        "Giá trị '{value}' không đọc được. Giá trị được chấp nhận: {detail}." + _KEPT,
        fix=True,
    ),
    "NUMBER_INVALID": Kind(
        WARNING,
        "'{value}' không phải là số. Hãy nhập một số{detail}." + _KEPT,
        fix=True,
    ),
    "NUMBER_AS_TEXT": Kind(
        WARNING,
        "Số '{value}' được nhập dạng chữ; đã đọc là {detail}.",
    ),
    "NUMBER_OUT_OF_RANGE": Kind(
        WARNING,
        "Giá trị {value} nằm ngoài khoảng cho phép ({detail})." + _KEPT,
        fix=True,
    ),
    "DATE_INVALID": Kind(
        WARNING,
        "'{value}' không phải ngày hợp lệ. Hãy nhập theo dạng ngày/tháng/năm, ví dụ 05/01/1980."
        + _KEPT,
        fix=True,
    ),
    "DATE_IMPLAUSIBLE": Kind(
        WARNING,
        "Ngày sinh '{value}' không thể đúng ({detail}). Hãy nhập đúng ngày/tháng/năm sinh." + _KEPT,
        fix=True,
    ),
    "DATE_YEAR_ONLY": Kind(
        WARNING,
        "Chỉ có năm sinh '{value}'; tuổi được tính theo năm. Nếu biết, hãy nhập đủ ngày/tháng/năm.",
    ),
    "DATE_TYPED_YEAR": Kind(
        WARNING,
        "Ô Ngày sinh hiện '{value}': đó là năm {detail} gõ vào ô định dạng Ngày (Excel lưu nó "
        "thành một ngày của năm 1905). Đã đọc là năm sinh {detail}, tuổi tính theo năm; nếu biết, "
        "hãy nhập đủ ngày/tháng/năm.",
    ),
    "DATE_SERIAL": Kind(
        WARNING,
        "Ngày '{value}' đang ở dạng số; đã đọc là {detail}. Hãy định dạng ô là Ngày "
        "(ngày/tháng/năm) để tránh nhầm.",
    ),
    "DATE_AS_TEXT": Kind(
        WARNING,
        "Ngày '{value}' được nhập dạng chữ; đã đọc là {detail} (ngày/tháng/năm).",
    ),
    "DATE_MONTH_FIRST": Kind(
        WARNING,
        "Ngày '{value}' được ghi theo kiểu tháng/ngày/năm (kiểu Mỹ); đã đọc là {detail}. Hãy ghi "
        "theo ngày/tháng/năm.",
    ),
    "DATE_AMBIGUOUS": Kind(
        WARNING,
        "Ngày sinh '{value}' có thể là {detail}: trong cột này có ngày được gõ theo kiểu "
        "tháng/ngày/năm (Excel đặt kiểu ngày Mỹ), nên không biết số nào là ngày, số nào là tháng. "
        "Hãy gõ lại ngày sinh dạng chữ, có dấu nháy ở đầu, ví dụ '05/01/1980." + _KEPT,
        fix=True,
    ),
    "BIRTH_DATE_CHANGED": Kind(
        WARNING,
        "Ngày sinh đổi từ {detail} thành {value}. Nếu là sửa cho đúng thì không cần làm gì; nếu "
        "không, hãy sửa lại.",
    ),
    "BIRTH_DATE_SWAPPED": Kind(
        WARNING,
        "Ngày sinh '{value}' chỉ khác ngày sinh đã báo {detail} ở chỗ đảo ngày và tháng (thường "
        "do Excel đặt kiểu ngày Mỹ tháng/ngày/năm); kết quả vẫn dùng ngày đã báo trước. Hãy "
        "kiểm tra: nếu ngày mới mới đúng, hãy gõ nó dạng chữ có dấu nháy ở đầu, ví dụ "
        "'05/01/1980.",
        fix=True,
    ),
    "CCCD_LENGTH": Kind(
        WARNING,
        "Số CCCD '{value}' không hợp lệ ({detail}); số CCCD phải gồm đúng 12 chữ số. Hãy kiểm "
        "tra lại và định dạng ô là Văn bản (Text)." + _KEPT,
        fix=True,
    ),
    "CCCD_LEADING_ZERO": Kind(
        WARNING,
        "Số CCCD '{value}' bị mất số 0 ở đầu (ô đang là dạng Số); đã đọc là {detail}. Hãy "
        "định dạng "
        "cột Số CCCD là Văn bản (Text).",
    ),
    "TEXT_NORMALIZED": Kind(
        WARNING,
        "Chữ tiếng Việt ở dạng Unicode tổ hợp (NFD) hoặc có khoảng trắng thừa ({detail}); đã "
        "chuẩn hóa, ví dụ '{value}'. Nên gõ bằng bảng mã Unicode dựng sẵn và xóa khoảng trắng "
        "thừa.",
    ),
    "CITIZEN_DUPLICATE": Kind(
        ERROR,
        "Công dân trùng với dòng {detail} (cùng số CCCD hoặc cùng họ tên, ngày sinh và mã hộ); "
        "dòng này chưa được tính. Hãy xóa dòng trùng.",
    ),
    "CITIZEN_OTHER_UNIT": Kind(
        WARNING,
        "Số CCCD {value} cũng được báo cáo ở {detail}. Hãy xác minh công dân này thuộc đơn vị nào.",
    ),
    "HOUSEHOLD_UNKNOWN": Kind(
        WARNING,
        "Mã hộ '{value}' không có trong sheet Hộ gia đình; người này chưa được tính vào hộ nào. "
        "Hãy thêm hộ vào sheet Hộ gia đình hoặc sửa Mã hộ." + _KEPT,
        fix=True,
    ),
    # The household's row may be one the reader could not convert (ROW_UNREADABLE): its members
    # are told once, on that row, instead of each being asked to fix a code that may be right.
    "HOUSEHOLD_ROW_UNREADABLE": Kind(
        WARNING,
        "Mã hộ '{value}' của {detail} không có trong các dòng đọc được của sheet Hộ gia đình: "
        "có thể hộ ở dòng này, dòng không đọc được (hoặc ở một dòng không đọc được khác). Hãy "
        "nhập lại các ô của dòng rồi gửi lại; nếu hộ không ở đó, hãy thêm hộ vào sheet Hộ gia "
        "đình hoặc sửa Mã hộ. Người vẫn được tính nhưng chưa vào hộ nào cho đến khi được sửa.",
        fix=True,
    ),
    "HOUSEHOLD_DUPLICATE": Kind(
        ERROR,
        "Mã hộ '{value}' bị lặp (đã có ở dòng {detail}); dòng này chưa được tính. Mỗi hộ chỉ ghi "
        "một dòng.",
    ),
    "ROWS_OF_OTHER_UNIT": Kind(
        ERROR,
        "{value} dòng trong tệp là của {detail}; các dòng này không được tính cho đơn vị này, "
        "cũng không được tính cho đơn vị kia (kết quả của mỗi đơn vị chỉ lấy từ biểu mẫu đơn vị "
        "đó tự gửi). Hãy xóa các dòng này khỏi tệp.",
    ),
    "ROWS_SENT_BY_OTHER_UNIT": Kind(
        WARNING,
        "{value} dòng của đơn vị này được dán trong tệp {detail} và không được tính. Nếu có người "
        "hoặc hộ trong số đó chưa có trong biểu mẫu của đơn vị mình, hãy bổ sung rồi gửi lại.",
    ),
    "VOTES_EXCEED": Kind(
        WARNING,
        "Số phiếu đồng ý ({value}) lớn hơn số người dự họp ({detail}). Hãy kiểm tra lại biên bản "
        "họp." + _KEPT,
        fix=True,
    ),
    "ATTENDEES_MISSING": Kind(
        ERROR,
        "Chưa có Số người dự họp trong khi {value} dòng có Số phiếu đồng ý: chưa tính được tỷ lệ "
        "phiếu của ai (các phiếu vẫn được giữ). Hãy điền số người dự họp bình xét.",
    ),
    "ATTENDEES_TOO_FEW": Kind(
        ERROR,
        "Số người dự họp ({value}) nhỏ hơn Số phiếu đồng ý của {detail} dòng, nên có lẽ ô này ghi "
        "sai: số người dự họp coi như chưa có và chưa tính được tỷ lệ phiếu của ai (các phiếu vẫn "
        "được giữ). Hãy kiểm tra lại biên bản họp.",
    ),
    "TASK_UNKNOWN": Kind(
        ERROR,
        "Mã tiêu chí/phần việc '{value}' không có trong Bộ tiêu chí nên dòng này chưa được "
        "tính. Hãy chọn mã tiêu chí và phần việc trong danh sách của biểu mẫu.",
    ),
    # --- a resident list (kieumau forms --danh-sach), read to pre-fill the forms --------------
    "RESIDENT_NO_NAME": Kind(
        ERROR,
        "Dòng không có họ tên nên không đưa vào biểu mẫu. Hãy ghi họ tên rồi lập lại biểu mẫu, "
        "hoặc để đơn vị tự ghi người này.",
    ),
    "RESIDENT_DUPLICATE": Kind(
        ERROR,
        "Số CCCD '{value}' đã có ở dòng {detail}: mỗi người một dòng, dòng này không đưa vào "
        "biểu mẫu.",
    ),
    "RESIDENT_UNIT_UNKNOWN": Kind(
        ERROR,
        "Tổ dân phố '{value}' không có trong Bộ tiêu chí (sheet Đơn vị) nên người này không "
        "được đưa vào biểu mẫu nào. Hãy ghi mã hoặc tên đơn vị như trong Bộ tiêu chí.",
    ),
    "RESIDENT_NO_HOUSEHOLD": Kind(
        WARNING,
        "Chưa có mã hộ: người này đã được đưa vào biểu mẫu, đơn vị cần ghi mã hộ.",
    ),
}


@dataclass(frozen=True)
class Issue:
    """One problem: where it is, how bad it is, and what to do about it."""

    file: str
    sheet: str
    cell: str
    code: str
    message: str
    severity: str
    public_message: str = ""  # the message with CCCD numbers and birth dates masked
    # Whom a row's problem is about ('Nguyễn Văn An', 'Hộ TDP01-H005'); the message starts
    # with it. Empty for a problem of the file or of a sheet.
    who: str = ""

    @property
    def needs_fix(self) -> bool:
        """The unit must fix it: an error, or a cell read as unknown (see the module's text)."""
        return self.severity == ERROR or KINDS[self.code].fix

    @property
    def text(self) -> str:
        """The message without the whom and where it starts with: for a list whose other
        columns say them (the feedback's Phản hồi)."""
        return self.message.removeprefix(_lead(self.who, self.sheet, self.cell))

    def as_row(self) -> dict[str, str]:
        return asdict(self)


# Messages quoting what identifies a person (a CCCD, a birth date): what leaves the office (the
# mails of `kieumau gui`) shows them masked; the unit's own feedback and the clerk's internal
# summary keep them whole.
_PERSONAL = {
    "DATE_INVALID",
    "DATE_IMPLAUSIBLE",
    "DATE_TYPED_YEAR",
    "DATE_MONTH_FIRST",
    "DATE_AMBIGUOUS",
    "BIRTH_DATE_CHANGED",
    "BIRTH_DATE_SWAPPED",
    "DATE_SERIAL",
    "DATE_AS_TEXT",
    "CCCD_LENGTH",
    "CCCD_LEADING_ZERO",
    "CITIZEN_OTHER_UNIT",
    "RESIDENT_DUPLICATE",
}
_DAY_MONTH = re.compile(r"\b\d{1,2}([/.-])\d{1,2}\1(\d{4})\b")
_ISO_DAY_MONTH = re.compile(r"\b(\d{4})-\d{1,2}-\d{1,2}\b")
_LONG_NUMBER = re.compile(r"\d{5,}")  # a CCCD, or a date typed as its Excel serial number


# What the next form's comment says on the cell of a row kept though it was not counted
# (form_layout.FLAGGED), by the issue that refused it.
NEXT_FORM_NOTES = {
    "CITIZEN_DUPLICATE": (
        "Cần sửa: kỳ trước người này có hai dòng (cùng số CCCD, hoặc cùng họ tên, ngày sinh và "
        "mã hộ) nên dòng này chưa được tính. Xóa dòng thừa; nếu là hai người khác nhau, sửa "
        "lại số CCCD hoặc họ tên cho đúng."
    ),
    "HOUSEHOLD_DUPLICATE": (
        "Cần sửa: kỳ trước mã hộ này có ở hai dòng nên dòng này chưa được tính. Xóa dòng thừa; "
        "nếu là hai hộ khác nhau, sửa lại mã hộ cho đúng."
    ),
}


def mask_personal(value: object) -> str:
    """``value`` as text with dates reduced to their year and long numbers to their end."""
    text = _DAY_MONTH.sub(lambda m: f"**{m[1]}**{m[1]}{m[2]}", str(value))
    text = _ISO_DAY_MONTH.sub(lambda m: f"{m[1]}-**-**", text)
    return _LONG_NUMBER.sub(lambda m: "*" * (len(m[0]) - 3) + m[0][-3:], text)


def make_issue(
    code: str,
    file: str,
    sheet: str = "",
    cell: str = "",
    value: object = "",
    detail: object = "",
    who: str = "",
) -> Issue:
    """An issue with its message; ``who`` names the person or household of a row's problem,
    and the message then starts with it and the cell: 'Nguyễn Văn An, Công dân!H12: …'."""
    kind = KINDS[code]
    message = kind.template.format(value=value, detail=detail)
    public = message
    if code in _PERSONAL:
        public = kind.template.format(value=mask_personal(value), detail=mask_personal(detail))
    lead = _lead(who, sheet, cell)
    return Issue(file, sheet, cell, code, lead + message, kind.severity, lead + public, who)


def _lead(who: str, sheet: str, cell: str) -> str:
    """What starts the message of a row's problem: whom and where ('' without ``who``)."""
    if not who:
        return ""
    where = f"{sheet}!{cell}" if sheet and cell else sheet
    return f"{who}, {where}: " if where else f"{who}: "


ISSUE_LABELS = {
    "file": "Tệp",
    "sheet": "Sheet",
    "cell": "Ô",
    "severity": "Mức độ",
    "code": "Mã lỗi",
    "message": "Nội dung",
}
