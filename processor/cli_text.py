"""Click's own texts in Vietnamese ("Usage:", "Error: Missing option", "Show this message and
exit." …), served through gettext, the way Click is made to speak another language.

Click looks every message it prints up with ``gettext``; the command line switches gettext to
this catalogue for as long as a command runs (``vietnamese``). The catalogue is compiled into
``processor/locale/vi/LC_MESSAGES/kieumau.mo`` by ``python -m processor.cli_text``, and a test
holds the file equal to the table below and the table complete for the installed Click.
"""

from __future__ import annotations

import contextlib
import gettext
import os
import struct
from collections.abc import Iterator
from pathlib import Path

DOMAIN = "kieumau"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
CATALOGUE = LOCALE_DIR / "vi" / "LC_MESSAGES" / f"{DOMAIN}.mo"

# Click's message -> Vietnamese. A tuple key is a (singular, plural) pair of ngettext:
# Vietnamese has one form. A placeholder of Click's may be left out where its value would be
# English ({number_type} is "integer", {name} "File").
MESSAGES: dict[str | tuple[str, str], str] = {
    "Usage:": "Cách dùng:",
    "Options": "Tùy chọn",
    "Commands": "Các lệnh",
    "Positional arguments": "Tham số",
    "Show this message and exit.": "Hiện hướng dẫn này rồi thoát.",
    "Show the version and exit.": "Hiện phiên bản rồi thoát.",
    "%(prog)s, version %(version)s": "%(prog)s, phiên bản %(version)s",
    "Error: {message}": "Lỗi: {message}",
    "Try '{command} {option}' for help.": "Xem hướng dẫn: {command} {option}",
    "Invalid value for {param_hint}: {message}": "Giá trị không hợp lệ ở {param_hint}: {message}",
    "Invalid value: {message}": "Giá trị không hợp lệ: {message}",
    "Missing argument": "Thiếu tham số",
    "Missing option": "Thiếu tùy chọn",
    "Missing parameter": "Thiếu tham số",
    "Missing parameter: {param_name}": "Thiếu tham số: {param_name}",
    "Missing {param_type}": "Thiếu {param_type}",
    "Missing command.": "Thiếu tên lệnh.",
    "No such option {name!r}.": "Không có tùy chọn {name!r}.",
    "No such command {name!r}.": "Không có lệnh {name!r}.",
    ("Did you mean {possibility}?", "(Did you mean one of: {possibilities}?)"): (
        "Có phải là {possibility}?"
    ),
    ("Got unexpected extra argument ({args})", "Got unexpected extra arguments ({args})"): (
        "Thừa tham số ({args})"
    ),
    ("Option {name!r} requires an argument.", "Option {name!r} requires {nargs} arguments."): (
        "Tùy chọn {name!r} cần giá trị đi kèm."
    ),
    "Option {name!r} does not take a value.": "Tùy chọn {name!r} không nhận giá trị.",
    "Argument {name!r} takes {nargs} values.": "Tham số {name!r} cần {nargs} giá trị.",
    "Invalid start character for option ({option})": (
        "Ký tự đầu không hợp lệ cho tùy chọn ({option})"
    ),
    ("Takes {nargs} values but 1 was given.", "Takes {nargs} values but {len} were given."): (
        "Cần {nargs} giá trị, nhận được {len}."
    ),
    (
        "{len_type} values are required, but {len_value} was given.",
        "{len_type} values are required, but {len_value} were given.",
    ): "Cần {len_type} giá trị, nhận được {len_value}.",
    "Aborted!": "Đã dừng.",
    "deprecated": "không còn dùng",
    "required": "bắt buộc",
    "default: {default}": "mặc định: {default}",
    "env var: {var}": "biến môi trường: {var}",
    "(dynamic)": "(tính lúc chạy)",
    "DeprecationWarning: The command {name!r} is deprecated.{extra_message}": (
        "Lưu ý: lệnh {name!r} không còn dùng nữa.{extra_message}"
    ),
    "DeprecationWarning: The {param_type} {name!r} is deprecated.{extra_message}": (
        "Lưu ý: {name!r} không còn dùng nữa.{extra_message}"
    ),
    "Value must be an iterable.": "Giá trị phải là một dãy.",
    "Could not determine name for option with declarations {decls!r}": (
        "Không xác định được tên tùy chọn từ khai báo {decls!r}"
    ),
    "No options defined but a name was passed ({name}). Did you mean to declare an argument "
    "instead? Did you mean to pass '--{name}'?": (
        "Chưa khai báo tùy chọn nào nhưng có tên ({name}). Cần khai báo một tham số, hay viết "
        "'--{name}'?"
    ),
    "Arguments take exactly one parameter declaration, got {length}: {decls}.": (
        "Mỗi tham số có đúng một khai báo, ở đây có {length}: {decls}."
    ),
    "Name '{name}' defined twice": "Tên '{name}' được khai báo hai lần",
    "Boolean option {decl!r} cannot use the same flag for true/false.": (
        "Tùy chọn có/không {decl!r} không dùng cùng một cờ cho cả hai giá trị."
    ),
    "Do you want to continue?": "Tiếp tục?",
    "Confirm the action without prompting.": "Xác nhận luôn, không hỏi lại.",
    "unknown error": "lỗi không xác định",
    "Could not open file {filename!r}: {message}": "Không mở được tệp {filename!r}: {message}",
    "Windows error: {error}": "Lỗi Windows: {error}",
    "d": " ngày",
    "{editor}: Editing failed": "{editor}: không sửa được",
    "{editor}: Editing failed: {e}": "{editor}: không sửa được: {e}",
    "Couldn't detect Bash version, shell completion is not supported.": (
        "Không xác định được phiên bản Bash: không gợi ý lệnh được."
    ),
    "Shell completion is not supported for Bash versions older than 4.4.": (
        "Chỉ gợi ý lệnh được với Bash từ 4.4 trở lên."
    ),
    "Press any key to continue...": "Nhấn phím bất kỳ để tiếp tục...",
    "Repeat for confirmation": "Nhập lại để xác nhận",
    "Error: The two entered values do not match.": "Lỗi: hai lần nhập không khớp nhau.",
    "Unknown color {colour!r}": "Không có màu {colour!r}",
    "Error: invalid input": "Lỗi: giá trị nhập không hợp lệ",
    "file": "tệp",
    "directory": "thư mục",
    "path": "đường dẫn",
    "Choose from:\n\t{choices}": "Chọn một trong:\n\t{choices}",
    ("{value!r} is not {choice}.", "{value!r} is not one of {choices}."): (
        "{value!r} không phải một trong: {choices}."
    ),
    "Choice({choices})": "Lựa chọn({choices})",
    (
        "{value!r} does not match the format {format}.",
        "{value!r} does not match the formats {formats}.",
    ): "{value!r} không đúng dạng {formats}.",
    "{value} is not in the range {range}.": "{value} nằm ngoài khoảng {range}.",
    "{value!r} is not a valid boolean. Recognized values: {states}": (
        "{value!r} không phải giá trị có/không. Các giá trị nhận: {states}"
    ),
    "{value!r} is not a valid {number_type}.": "{value!r} không phải là số hợp lệ.",
    "{value!r} is not a valid UUID.": "{value!r} không phải mã UUID hợp lệ.",
    "{name} {filename!r} is a file.": "{filename!r} là một tệp, không phải thư mục.",
    "{name} {filename!r} is a directory.": "{filename!r} là một thư mục, không phải tệp.",
    "{name} {filename!r} is not readable.": "Không đọc được {filename!r} (không có quyền).",
    "{name} {filename!r} is not writable.": "Không ghi được vào {filename!r} (không có quyền).",
    "{name} {filename!r} is not executable.": "Không chạy được {filename!r}.",
    "{name} {filename!r} does not exist.": "Không tìm thấy {filename!r}.",
    "Unknown standard stream '{name}'": "Không có luồng chuẩn '{name}'",
}

_HEADER = "Content-Type: text/plain; charset=UTF-8\nPlural-Forms: nplurals=1; plural=0;\n"


def compiled() -> bytes:
    """The catalogue as a GNU .mo file (the format gettext reads, as msgfmt writes it)."""
    entries = {"": _HEADER}
    for key, text in MESSAGES.items():
        entries["\0".join(key) if isinstance(key, tuple) else key] = text
    ids = sorted(entries, key=lambda k: k.encode("utf-8"))
    originals = [k.encode("utf-8") for k in ids]
    translations = [entries[k].encode("utf-8") for k in ids]
    count = len(ids)
    start = 7 * 4 + 16 * count  # the header, then both tables of (length, offset)
    table, strings = [], b""
    for data in [*originals, *translations]:
        table.append((len(data), start + len(strings)))
        strings += data + b"\0"
    head = struct.pack("<7I", 0x950412DE, 0, count, 7 * 4, 7 * 4 + 8 * count, 0, 0)
    return head + b"".join(struct.pack("<2I", *entry) for entry in table) + strings


@contextlib.contextmanager
def vietnamese() -> Iterator[None]:
    """Click's texts in Vietnamese while the block runs, whatever the machine's language.

    gettext takes the language from the environment only: LANGUAGE comes first, so it is set
    for the block, and everything is put back afterwards (tests run many commands in one
    process)."""
    before = gettext.textdomain(), os.environ.get("LANGUAGE")
    gettext.bindtextdomain(DOMAIN, str(LOCALE_DIR))
    gettext.textdomain(DOMAIN)
    os.environ["LANGUAGE"] = "vi"
    try:
        yield
    finally:
        gettext.textdomain(before[0])
        if before[1] is None:
            os.environ.pop("LANGUAGE", None)
        else:
            os.environ["LANGUAGE"] = before[1]


if __name__ == "__main__":
    CATALOGUE.parent.mkdir(parents=True, exist_ok=True)
    CATALOGUE.write_bytes(compiled())
    print(f"{CATALOGUE} ({len(MESSAGES)} messages)")
