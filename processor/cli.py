"""Command line: parse options, call one library function, print a summary, set the exit code.

Exit codes (SPEC §4): 0 everything read, 1 ran but rejected files or rows (or received no form
of the month), 2 could not run: a KieumauError, or an error of the disk or the system the user
can cause (a full disk, a read-only folder, a file held open), each a Vietnamese message.
"""

from __future__ import annotations

import errno
import functools
import os
import sqlite3
import sys
import traceback
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from processor.cli_text import vietnamese
from processor.domain import schema as S
from processor.domain.catalogue import DEFAULT_CATALOGUE, Catalogue, load_catalogue
from processor.domain.errors import KieumauError
from processor.domain.issues import ERROR
from processor.domain.periods import Period

if TYPE_CHECKING:  # the command imports it when it runs
    from processor.intake.residents import Residents
from processor.domain.vietnamese import format_number
from processor.intake.submission import (
    ACCEPTED,
    ACCEPTED_WITH_ERRORS,
    DUPLICATE,
    IGNORED,
    OTHER_PERIOD,
    OTHER_UNIT,
    REJECTED,
    SUPERSEDED,
    WITHDRAWN,
)
from processor.store.place import (
    STORE_ENV,
    Places,
    check_new_store,
    remember_store,
    resolve_places,
)

CATALOGUE_NAME = Path("input_templates") / "bo_tieu_chi.xlsx"
EXIT_OK, EXIT_REJECTED, EXIT_CANNOT_RUN = 0, 1, 2


class _Context:
    def __init__(self, verbose: bool) -> None:
        self.verbose = verbose


def _metavar(param: click.Parameter) -> str | None:
    """A Vietnamese placeholder for an option's value in the help ("TỆP", not Click's "FILE")."""
    kind = param.type
    if param.callback is _period:
        return "NĂM-THÁNG"
    if isinstance(kind, click.Path):
        return "THƯ_MỤC" if not kind.file_okay else "TỆP" if not kind.dir_okay else "ĐƯỜNG_DẪN"
    if isinstance(kind, click.types.IntParamType | click.types.FloatParamType):
        return "SỐ"
    if isinstance(kind, click.types.StringParamType):
        return "GIÁ_TRỊ"
    return None


class _Command(click.Command):
    """A command whose usage line and placeholders are in Vietnamese."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("options_metavar", "[TÙY_CHỌN]")
        super().__init__(*args, **kwargs)
        for param in self.params:
            if isinstance(param, click.Option) and not param.is_flag and param.metavar is None:
                param.metavar = _metavar(param)


class _Group(click.Group):
    """The command group: a console that can print Vietnamese (utf8_console), a Vietnamese
    usage line, and Click's own texts (errors, "Usage:", "Show this message and exit.") in
    Vietnamese for as long as a command runs."""

    command_class = _Command
    group_class = type  # subgroups are _Group too

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("options_metavar", "[TÙY_CHỌN]")
        kwargs.setdefault("subcommand_metavar", "LỆNH [THAM_SỐ]...")
        super().__init__(*args, **kwargs)

    def main(self, *args, **kwargs):  # type: ignore[override]
        utf8_console()
        with vietnamese():
            return super().main(*args, **kwargs)


def _catalogue_path(option: str | None) -> Path:
    if option:
        return Path(option)
    if env := os.environ.get("KIEUMAU_BO_TIEU_CHI"):
        return Path(env)
    local = Path.cwd() / CATALOGUE_NAME
    return local if local.exists() else DEFAULT_CATALOGUE


def catalogue_option(command: Callable) -> Callable:
    return click.option(
        "--bo-tieu-chi",
        "catalogue_path",
        type=click.Path(dir_okay=False),
        help="Bộ tiêu chí (mặc định input_templates/bo_tieu_chi.xlsx).",
    )(command)


def store_options(command: Callable) -> Callable:
    """``--kho`` and ``--lich-su``: where the store is (see processor.store.place); the command
    gets ``workspace`` and ``history_path`` (None when not given) and calls ``places``."""
    command = click.option(
        "--kho",
        "workspace",
        type=click.Path(file_okay=False),
        default=None,
        help=(
            f"Kho lưu trữ tệp gốc và lịch sử (mặc định: biến môi trường {STORE_ENV}, nếu "
            "không có thì output/kho trong thư mục dự án, nơi có input_templates/)."
        ),
    )(command)
    command = click.option(
        "--lich-su",
        "history_path",
        type=click.Path(dir_okay=False),
        help="Tệp SQLite lịch sử (mặc định <kho>/lich_su.sqlite).",
    )(command)
    return command


def output_options(command: Callable) -> Callable:
    """``store_options`` and ``--out`` (the results folder; the command gets ``output_root``)."""
    command = store_options(command)
    command = click.option(
        "--out",
        "output_root",
        type=click.Path(file_okay=False),
        default=None,
        help="Thư mục kết quả (mặc định: output trong thư mục dự án, nơi có input_templates/).",
    )(command)
    return command


def places(
    catalogue_path: str | None,
    output_root: str | None = None,
    workspace: str | None = None,
    history_path: str | None = None,
) -> Places:
    """The folders of a command from its options (output_options, store_options)."""
    return resolve_places(_catalogue_path(catalogue_path), output_root, workspace, history_path)


def _period(ctx: click.Context, param: click.Parameter, value: str | None) -> Period | None:
    if value is None:
        return None
    try:
        return Period.parse(value)
    except KieumauError as exc:
        raise click.BadParameter(str(exc)) from exc


_KEPT = "Kết quả cũ và kho lịch sử được giữ nguyên."


def system_error_message(exc: BaseException) -> str | None:
    """A Vietnamese message for an error of the disk or the system found in ``exc`` or what it
    was raised from (a writer wraps the OSError it met), or None when there is none."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError):
            return _os_message(current)
        if isinstance(current, sqlite3.Error):
            return _sqlite_message(current)
        current = current.__cause__ or current.__context__
    return None


def _os_message(exc: OSError) -> str:
    where = exc.filename if exc.filename is not None else "tệp"
    if isinstance(where, bytes):
        where = where.decode("utf-8", "replace")
    elif isinstance(where, str):
        where = where.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    code = exc.errno
    if code in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
        return (
            f"Ổ đĩa đã đầy, không ghi được {where}. Hãy giải phóng dung lượng (hoặc chọn thư "
            f"mục khác bằng --out, --kho) rồi chạy lại. {_KEPT}"
        )
    if code == errno.EROFS:
        return (
            f"Thư mục chỉ cho đọc, không ghi được {where}. Hãy chọn thư mục ghi được bằng "
            f"--out, --kho rồi chạy lại. {_KEPT}"
        )
    if code in (errno.EACCES, errno.EPERM):
        return (
            f"Không có quyền ghi hoặc đọc {where} (hoặc tệp đang được mở ở chương trình khác). "
            f"Hãy đóng tệp, kiểm tra quyền của thư mục rồi chạy lại. {_KEPT}"
        )
    if code == errno.ENOENT:
        return f"Không tìm thấy {where}."
    return f"Lỗi hệ thống khi đọc hoặc ghi {where}: {exc.strerror or exc}. {_KEPT}"


def _sqlite_message(exc: sqlite3.Error) -> str:
    text = str(exc).lower()
    if "full" in text:
        return f"Ổ đĩa đã đầy, không ghi được kho lịch sử. Hãy giải phóng dung lượng. {_KEPT}"
    if "readonly" in text or "read-only" in text:
        return f"Kho lịch sử nằm ở thư mục chỉ cho đọc; hãy chọn kho khác bằng --kho. {_KEPT}"
    if "locked" in text or "busy" in text:
        return f"Kho lịch sử đang được một chương trình khác mở; hãy đóng nó rồi chạy lại. {_KEPT}"
    return f"Kho lịch sử không ghi hoặc đọc được ({exc}). {_KEPT}"


def friendly_errors(command: Callable) -> Callable:
    """Turn KieumauError, and the errors of the disk or the system a user can cause, into a
    Vietnamese message and exit 2; --verbose shows the traceback."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except (KieumauError, OSError, sqlite3.Error) as exc:
            message = str(exc) if isinstance(exc, KieumauError) else system_error_message(exc)
            ctx = click.get_current_context()
            if ctx.find_root().obj and ctx.find_root().obj.verbose:
                traceback.print_exc()
            click.secho(f"Lỗi: {message}", fg="red", err=True)
            ctx.exit(EXIT_CANNOT_RUN)
        except Exception as exc:
            # Broad on purpose, and re-raised unless the disk or the store is behind it: a
            # library may wrap the OSError it met in its own type (xlsxwriter's
            # FileCreateError), and only the exception's chain says so.
            message = system_error_message(exc)
            if message is None:
                raise
            ctx = click.get_current_context()
            if ctx.find_root().obj and ctx.find_root().obj.verbose:
                traceback.print_exc()
            click.secho(f"Lỗi: {message}", fg="red", err=True)
            ctx.exit(EXIT_CANNOT_RUN)

    return wrapper


def _load(catalogue_path: str | None) -> Catalogue:
    return load_catalogue(_catalogue_path(catalogue_path))


def _progress(label: str, i: int, n: int) -> None:
    """A bar per stage on a terminal; elsewhere (a log, a scheduled task) a line as each
    stage starts."""
    if sys.stderr.isatty():
        width = 30
        done = int(width * i / max(n, 1))
        click.echo(
            f"\r{label:<16} [{'#' * done}{'.' * (width - done)}] {i}/{n}", err=True, nl=i == n
        )
    elif i == 0:
        click.echo(f"{label}…", err=True)


def utf8_console() -> None:
    """Make stdout and stderr able to print Vietnamese whatever the console's code page.

    A redirected output on Windows, or a console set to cp1252, takes the locale's legacy
    encoding, which has no letter like ạ or ế: every print would raise UnicodeEncodeError. A
    stream that is not a terminal (a file, a pipe) is switched to UTF-8, so the saved text stays
    whole; a terminal keeps its encoding and shows '?' for what it cannot display.
    """
    for stream in (sys.stdout, sys.stderr):
        encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "")
        if encoding == "utf8" or not hasattr(stream, "reconfigure"):
            continue
        try:
            if stream.isatty():
                stream.reconfigure(errors="replace")
            else:
                stream.flush()
                stream.reconfigure(encoding="utf-8", errors="replace")
        except (OSError, ValueError):  # a closed or detached stream: nothing to print to
            continue


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--verbose", is_flag=True, help="Hiện chi tiết lỗi kỹ thuật (traceback).")
@click.version_option(
    package_name="kieumau", message="kieumau %(version)s", help="Hiện phiên bản rồi thoát."
)
@click.pass_context
def main(ctx: click.Context, verbose: bool) -> None:
    """kieumau: tổng hợp biểu mẫu thi đua xây dựng các danh hiệu kiểu mẫu.

    Công dân kiểu mẫu, Gia đình kiểu mẫu, Tổ dân phố kiểu mẫu: đọc biểu mẫu các đơn vị gửi
    về, chấm theo Bộ tiêu chí, lập bảng tổng hợp, phản hồi và dự thảo quyết định.
    """
    ctx.obj = _Context(verbose)


@main.command("run")
@click.argument("inbox", type=click.Path(exists=True, file_okay=False), metavar="THƯ_MỤC_NHẬN")
@click.option(
    "--ky",
    "period",
    required=True,
    callback=_period,
    help="Kỳ báo cáo, dạng 2021-11.",
)
@click.option(
    "--quyet-dinh",
    "with_decisions",
    is_flag=True,
    help="Lập luôn dự thảo quyết định (mặc định chỉ ở kỳ tháng 12).",
)
@click.option("--workers", type=int, default=None, help="Số tiến trình đọc tệp (mặc định: số lõi).")
@click.option(
    "--bo-don-vi",
    "drop_units",
    multiple=True,
    metavar="MA_DON_VI",
    help=(
        "Bỏ đơn vị này khỏi kỳ (lặp lại được): các tệp đơn vị đã gửi cho kỳ không còn được "
        "tính; tệp đơn vị gửi sau đó được tính. Không có tùy chọn này thì mọi tệp đã nhận của "
        "kỳ (trong kho) đều được tính lại cùng tệp mới trong INBOX."
    ),
)
@click.option(
    "--xac-nhan-bo-tieu-chi",
    "accept_catalogue",
    is_flag=True,
    help="Xác nhận chấm theo Bộ tiêu chí đã thay đổi so với các tháng trước trong năm.",
)
@click.option(
    "--kho-moi",
    "new_store",
    is_flag=True,
    help="Cho phép bắt đầu một kho lịch sử mới dù các kỳ trước đã được ghi ở kho khác.",
)
@click.option(
    "--khong-du-lieu-ca-nhan",
    "without_people",
    is_flag=True,
    help=(
        "Không ghi bản tổng hợp có dữ liệu cá nhân (các sheet Công dân, Hộ gia đình, Lỗi dữ "
        "liệu): chỉ ghi bản số liệu, như bản gửi Ban chỉ đạo."
    ),
)
@catalogue_option
@output_options
@friendly_errors
def run_command(
    inbox: str,
    period: Period,
    with_decisions: bool,
    workers: int | None,
    drop_units: tuple[str, ...],
    accept_catalogue: bool,
    new_store: bool,
    without_people: bool,
    catalogue_path: str | None,
    output_root: str | None,
    history_path: str | None,
    workspace: str | None,
) -> None:
    """Chạy tổng hợp hằng tháng cho mọi tệp trong THƯ_MỤC_NHẬN.

    Các tệp của kỳ đã nhận ở những lần chạy trước (lưu trong kho) được tính cùng tệp trong
    THƯ_MỤC_NHẬN; với mỗi đơn vị, bản nhận sau cùng có hiệu lực.
    """
    from processor.batch import RunOptions

    options = RunOptions(
        drop_units=tuple(code.strip().upper() for code in drop_units),
        accept_catalogue=accept_catalogue,
        personal_rows=not without_people,
    )
    where = places(catalogue_path, output_root, workspace, history_path)
    code = _run(
        Path(inbox),
        period,
        catalogue_path,
        where,
        workers,
        with_decisions or period.month == 12,
        options=options,
        new_store=new_store,
    )
    sys.exit(code)


def _run(
    inbox: Path,
    period: Period,
    catalogue_path: str | None,
    where: Places,
    workers: int | None,
    with_decisions: bool,
    *,
    options=None,
    new_store: bool = False,
) -> int:
    from processor.batch import run_batch

    catalogue = _load(catalogue_path)
    legacy = Path.cwd() / "output" / "kho" / "lich_su.sqlite"  # the default before 2026
    new_store_line = check_new_store(
        where.history, allow_new=new_store, explicit=where.explicit, also=[legacy]
    )
    report = run_batch(
        inbox,
        period,
        catalogue,
        where.output_root,
        where.history,
        where.workspace,
        workers=workers,
        progress=_progress,
        options=options,
    )
    remember_store(where.history)
    if new_store_line:
        report.notices.append(new_store_line)
    _print_run_summary(report, catalogue)
    if with_decisions:
        _decisions(catalogue, period.year, where, pdf=False)
    return report.exit_code


# How the run's summary line counts the files of each status (a status alone, "đã nhận", would
# stutter beside "đã nhận, có lỗi cần sửa"). A file with cells to fix has all its rows counted:
# it is not said to have rows rejected.
_FILE_COUNTS = {
    ACCEPTED: "nhận đủ",
    ACCEPTED_WITH_ERRORS: "nhận nhưng có ô hoặc dòng cần sửa",
    REJECTED: "bị từ chối",
    DUPLICATE: "trùng với tệp khác (tính một lần)",
    SUPERSEDED: "đã có bản mới hơn thay thế",
    OTHER_PERIOD: "của kỳ khác",
    OTHER_UNIT: "của đơn vị khác",
    IGNORED: "bỏ qua",
    WITHDRAWN: "bỏ khỏi kỳ theo --bo-don-vi",
}
_MISSING_SHOWN = 10  # units named on the console; the summary's Chưa nộp sheet lists them all


def _n(value: int) -> str:
    """A count as Vietnamese write it: 378.845."""
    return format_number(value, 0)


def _left_out_line(results) -> str:
    """Those registration leaves out (issue 23 item 1), counted among Chưa đủ điều kiện above:
    how many, and in which units, or "" when there are none."""
    units = results.units
    keys = {"citizens_not_registered": "công dân", "households_not_registered": "hộ"}
    if units.empty or not set(keys) <= set(units.columns):
        return ""
    counts = [f"{_n(int(units[key].sum()))} {noun}" for key, noun in keys.items()]
    codes = units.loc[units[list(keys)].sum(axis=1) > 0, "unit_code"].tolist()
    if not codes:
        return ""
    more = len(codes) - _MISSING_SHOWN
    named = ", ".join(codes[:_MISSING_SHOWN]) + (f" và {_n(more)} đơn vị khác" if more > 0 else "")
    return (
        f"  Không được xét vì chưa đăng ký thi đua (hoặc đăng ký muộn không được tính): "
        f"{' và '.join(counts)}, ở {named} (sheet '{S.OUT_BY_UNIT}'; Lý do trong tệp phản hồi)."
    )


def _print_run_summary(report, catalogue: Catalogue) -> None:
    subs = report.submissions
    statuses = Counter(s.status for s in subs)
    errors = sum(1 for i in report.issues if i.severity == ERROR)
    warnings = len(report.issues) - errors
    files = "; ".join(
        f"{_n(n)} {_FILE_COUNTS.get(status, status)}"
        for status, n in sorted(statuses.items(), key=lambda item: -item[1])
    )
    click.echo(f"\nKỳ {report.period}: đã đọc {_n(len(subs))} tệp ({files or 'không có tệp nào'}).")
    read, accepted, rejected, aside = (
        _n(sum(getattr(s, key) for s in subs))
        for key in ("rows_read", "rows_accepted", "rows_rejected", "rows_set_aside")
    )
    line = f"Dòng dữ liệu: đọc {read}, nhận {accepted}, loại {rejected}"
    if aside != "0":
        line += f", không tính {aside} (bản cũ đã được thay, bản trùng, đơn vị bị bỏ khỏi kỳ)"
    click.echo(line + ".")
    click.echo(f"Lỗi: {_n(errors)}, cảnh báo: {_n(warnings)} (xem tệp phản hồi của từng đơn vị).")
    sent = {s.unit_code for s in subs if s.status.counts}
    missing = [u for u in catalogue.units if u.code not in sent]
    if missing:
        named = ", ".join(f"{u.code} ({u.name})" for u in missing[:_MISSING_SHOWN])
        more = len(missing) - _MISSING_SHOWN
        tail = f" và {_n(more)} đơn vị khác (sheet '{S.OUT_MISSING}')" if more > 0 else ""
        click.secho(
            f"Chưa nộp: {_n(len(missing))}/{_n(len(catalogue.units))} đơn vị: {named}{tail}.",
            fg="yellow",
        )
    else:
        click.echo(f"Đã nộp: cả {_n(len(catalogue.units))} đơn vị.")
    results = report.results
    for label, frame in (
        ("Công dân", results.citizens),
        ("Hộ gia đình", results.households),
        ("Tổ dân phố", results.units[results.units["kind"] == S.UNIT_KIND_TDP]),
    ):
        counts = frame["outcome"].value_counts() if not frame.empty else {}
        cells = "   ".join(
            f"{outcome}: {_n(counts.get(outcome, 0)):>7}"
            for outcome in (S.ACHIEVED, S.NOT_ACHIEVED, S.NOT_ELIGIBLE)
        )
        click.echo(f"  {label:<12} {cells}")
    if left_out := _left_out_line(results):
        click.echo(left_out)
    click.echo(f"Kết quả: {report.out_dir}/")
    for path in report.outputs:
        if path.parent == report.out_dir:
            click.echo(f"  - {path.name}")
    folders = Counter(p.parent.name for p in report.outputs if p.parent != report.out_dir)
    for folder, n in sorted(folders.items()):
        click.echo(f"  - {folder}/ ({_n(n)} tệp)")
    for notice in report.notices:
        click.secho(f"Lưu ý: {notice}", fg="yellow")
    if report.exit_code and not report.received_none:
        click.secho(
            "Có tệp, dòng hoặc ô cần sửa: gửi tệp phản hồi (phan_hoi/) cho đơn vị để sửa.",
            fg="yellow",
        )


@main.command("forms")
@click.option(
    "--ky", "period", required=True, callback=_period, help="Kỳ của biểu mẫu, dạng 2021-12."
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    help="Thư mục ghi biểu mẫu (mặc định output/bieu_mau/<kỳ> trong thư mục dự án).",
)
@click.option(
    "--don-vi", "unit_codes", multiple=True, help="Chỉ lập cho đơn vị này (lặp lại được)."
)
@click.option(
    "--danh-sach",
    "resident_list",
    type=click.Path(exists=True, dir_okay=False),
    help="Danh sách dân cư (.xlsx, .xls, .ods hoặc .csv có cột Họ và tên, Ngày sinh, Số CCCD, "
    "Mã hộ; thêm cột Tổ dân phố nếu có nhiều đơn vị) để điền sẵn biểu mẫu, thường cho tháng 1.",
)
@click.option("--trong", "blank", is_flag=True, help="Biểu mẫu trắng, không điền sẵn từ lịch sử.")
@store_options
@catalogue_option
@friendly_errors
def forms_command(
    period: Period,
    out_dir: str | None,
    unit_codes: tuple[str, ...],
    resident_list: str | None,
    blank: bool,
    workspace: str | None,
    history_path: str | None,
    catalogue_path: str | None,
) -> None:
    """Lập biểu mẫu cho từng đơn vị: điền sẵn từ danh sách dân cư (--danh-sach), hoặc danh
    sách và kết quả kỳ trước trong kho lịch sử, hoặc biểu mẫu trắng (--trong)."""
    from processor.intake.residents import read_residents
    from processor.outputs.forms import Origin
    from processor.outputs.prefill import write_forms

    catalogue = _load(catalogue_path)
    where = places(catalogue_path, None, workspace, history_path)
    history = None if blank else where.history
    folder = Path(out_dir) if out_dir else where.output_root / "bieu_mau" / str(period)
    residents = None
    if resident_list:
        only = unit_codes[0] if len(unit_codes) == 1 else None
        residents = read_residents(Path(resident_list), catalogue, only)
    written = write_forms(catalogue, period, folder, unit_codes, history, residents)
    origins = Counter(origin for _, origin in written)
    parts = [
        f"{origins[Origin.RESIDENTS]} từ danh sách dân cư" if residents else "",
        f"{origins[Origin.HISTORY] + origins[Origin.NEW_YEAR]} điền sẵn từ lịch sử",
        f"{origins[Origin.BLANK]} biểu mẫu trắng",
    ]
    click.echo(
        f"Đã lập {len(written)} biểu mẫu kỳ {period} trong {folder}/ "
        f"({', '.join(p for p in parts if p)})."
    )
    if residents is not None:
        _report_residents(residents, folder, period)
        if residents.issues:
            sys.exit(EXIT_REJECTED)


# Problems of a resident list shown on the console; all of them are in the file beside the forms.
_RESIDENT_LINES = 30


def _report_residents(residents: Residents, folder: Path, period: Period) -> None:
    """Say what was read of a resident list and every row that needs fixing."""
    name = residents.path.name
    click.echo(
        f"Danh sách dân cư {name}: đọc {residents.rows_read} dòng, "
        f"{residents.rows_read - residents.rows_left_out} người được đưa vào biểu mẫu của "
        f"{len(residents.units)} đơn vị, {residents.rows_left_out} dòng không đưa vào."
    )
    if not residents.issues:
        return
    lines = [
        f"{i.file}, {f'sheet {i.sheet}, ' if i.sheet else ''}ô {i.cell}: {i.message}"
        for i in residents.issues
    ]
    report = folder / f"danh_sach_can_sua_{period}.txt"
    report.write_text("\n".join(lines) + "\n", encoding="utf-8")
    click.echo(f"{len(lines)} dòng của danh sách cần xem lại (tất cả trong {report}):")
    for line in lines[:_RESIDENT_LINES]:
        click.echo(f"  - {line}")
    if len(lines) > _RESIDENT_LINES:
        click.echo(f"  … và {len(lines) - _RESIDENT_LINES} dòng khác.")


@main.command("check")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False), metavar="TỆP..."
)
@click.option("--ky", "period", callback=_period, help="Kỳ phải khớp (không bắt buộc).")
@catalogue_option
@friendly_errors
def check_command(
    files: tuple[str, ...], period: Period | None, catalogue_path: str | None
) -> None:
    """Kiểm tra biểu mẫu mà không ghi nhận gì; mã thoát 0 khi mọi tệp sạch."""
    from processor.intake.reader import read_submission

    catalogue = _load(catalogue_path)
    dirty = 0
    for name in files:
        sub = read_submission(Path(name), catalogue, name, period)
        errors = [i for i in sub.issues if i.severity == ERROR]
        mark = "SẠCH" if not sub.issues else ("LỖI" if errors or sub.rows_rejected else "CẢNH BÁO")
        click.secho(
            f"{mark}: {name} - đơn vị {sub.unit_code or '?'}, kỳ {sub.period or '?'}, "
            f"đọc {sub.rows_read} dòng, nhận {sub.rows_accepted}, loại {sub.rows_rejected}",
            fg="green" if mark == "SẠCH" else "red" if mark == "LỖI" else "yellow",
        )
        for issue in sub.issues:
            where = "!".join(p for p in (issue.sheet, issue.cell) if p)
            click.echo(f"  [{issue.severity}] {where or 'tệp'} ({issue.code}): {issue.message}")
        dirty += bool(sub.issues)
    click.echo(f"{len(files) - dirty}/{len(files)} tệp sạch.")
    sys.exit(EXIT_OK if dirty == 0 else EXIT_REJECTED)


@main.command("quyet-dinh")
@click.option(
    "--nam", "year", type=int, required=True, metavar="NĂM", help="Năm xét công nhận, ví dụ 2021."
)
@click.option("--pdf", is_flag=True, help="Chuyển sang PDF bằng LibreOffice (nếu có).")
@click.option(
    "--workers", type=int, default=None, help="Số tiến trình lập văn bản (mặc định: số lõi)."
)
@catalogue_option
@output_options
@friendly_errors
def decisions_command(
    year: int,
    pdf: bool,
    workers: int | None,
    catalogue_path: str | None,
    output_root: str | None,
    history_path: str | None,
    workspace: str | None,
) -> None:
    """Lập dự thảo quyết định công nhận từ kết quả tháng 11 của năm."""
    catalogue = _load(catalogue_path)
    where = places(catalogue_path, output_root, workspace, history_path)
    _decisions(catalogue, year, where, pdf, workers)


def stale_warning(history: Path, year: int) -> str | None:
    """A line saying which months of ``year`` up to November must be run again before their
    results are used (an earlier month changed after they were run), or None."""
    from processor.store.history import History

    if not history.is_file():
        return None
    with History(history) as store:
        stale = {
            p: why for p, why in store.stale().items() if f"{year:04d}-01" <= p <= f"{year:04d}-11"
        }
    if not stale:
        return None
    return (
        f"Kết quả kỳ {', '.join(stale)} đã cũ: kỳ {min(stale.values())} được chạy lại sau khi "
        f"chúng được chạy. Hãy chạy lại lần lượt kieumau run cho {', '.join(stale)} trước khi "
        "dùng các dự thảo này."
    )


def _decisions(
    catalogue: Catalogue, year: int, where: Places, pdf: bool, workers: int | None = None
) -> None:
    from processor.outputs.recognition import decisions_for_year
    from processor.store.lock import StoreLock

    with StoreLock(where.history.with_suffix(".khoa"), f"Kho lịch sử {where.history}"):
        stale = stale_warning(where.history, year)
        drafts = decisions_for_year(
            catalogue, year, where.output_root, where.history, pdf=pdf, workers=workers
        )
    click.echo(f"Đã lập {len(drafts.files)} văn bản dự thảo trong {drafts.folder}/:")
    for path in drafts.files:
        click.echo(f"  - {path.name}")
    for warning in [stale, *drafts.warnings] if stale else drafts.warnings:
        click.secho(f"Lưu ý: {warning}", fg="yellow")


@main.command("bao-cao")
@click.option(
    "--nam", "year", type=int, required=True, metavar="NĂM", help="Năm báo cáo, ví dụ 2021."
)
@click.option(
    "--loai",
    "kind",
    type=click.Choice(["ket-qua", "dang-ky"]),
    default="ket-qua",
    show_default=True,
    metavar="ket-qua|dang-ky",
    help=(
        "ket-qua: báo cáo kết quả cả năm (số liệu tháng 11); dang-ky: báo cáo đăng ký đầu năm "
        "(số liệu đến hết tháng han_dang_ky của Bộ tiêu chí, mặc định tháng 1)."
    ),
)
@catalogue_option
@output_options
@friendly_errors
def report_command(
    year: int,
    kind: str,
    catalogue_path: str | None,
    output_root: str | None,
    history_path: str | None,
    workspace: str | None,
) -> None:
    """Lập báo cáo của thị trấn gửi huyện (tệp Word): số đăng ký và số đạt theo danh hiệu và
    theo đơn vị, so với năm trước trong kho lịch sử, có bảng và biểu đồ."""
    from processor.outputs.year_report import year_report
    from processor.store.lock import StoreLock

    catalogue = _load(catalogue_path)
    where = places(catalogue_path, output_root, workspace, history_path)
    with StoreLock(where.history.with_suffix(".khoa"), f"Kho lịch sử {where.history}"):
        stale = stale_warning(where.history, year)
        report = year_report(catalogue, year, kind, where.history, where.output_root)
    click.echo(f"Đã lập báo cáo trong {report.folder}/:")
    for path in report.files:
        click.echo(f"  - {path.name}")
    for warning in [stale, *report.warnings] if stale else report.warnings:
        click.secho(f"Lưu ý: {warning}", fg="yellow")


@main.command("binh-xet")
@click.option(
    "--ky",
    "period",
    callback=_period,
    metavar="KỲ",
    help="Lấy số liệu kỳ này, dạng 2021-10 (mặc định: kỳ mới nhất trong kho).",
)
@click.option(
    "--don-vi", "unit_codes", multiple=True, help="Chỉ lập cho đơn vị này (lặp lại được)."
)
@catalogue_option
@output_options
@friendly_errors
def posting_command(
    period: Period | None,
    unit_codes: tuple[str, ...],
    catalogue_path: str | None,
    output_root: str | None,
    history_path: str | None,
    workspace: str | None,
) -> None:
    """Lập danh sách niêm yết và bình xét cho từng tổ dân phố, cơ quan (trước cuộc họp).

    Mỗi đơn vị một tệp Word: công dân, gia đình đã đăng ký (năm sinh, chủ hộ; không có số
    CCCD, ngày sinh), có cột để ghi số phiếu tại cuộc họp.
    """
    from processor.outputs.meeting_lists import posting_lists
    from processor.store.lock import StoreLock

    catalogue = _load(catalogue_path)
    where = places(catalogue_path, output_root, workspace, history_path)
    with StoreLock(where.history.with_suffix(".khoa"), f"Kho lịch sử {where.history}"):
        lists = posting_lists(
            catalogue,
            where.history,
            where.output_root,
            str(period) if period else None,
            tuple(unit_codes),
        )
    click.echo(f"Đã lập {len(lists.files)} danh sách bình xét trong {lists.folder}/:")
    for path in lists.files:
        click.echo(f"  - {path.name}")
    for warning in lists.warnings:
        click.secho(f"Lưu ý: {warning}", fg="yellow")


@main.command("demo")
@click.option(
    "--samples",
    "samples_dir",
    type=click.Path(file_okay=False),
    default="samples",
    show_default=True,
    help="Nơi ghi thị trấn mẫu.",
)
@click.option("--seed", type=int, default=2021, show_default=True, help="Hạt giống ngẫu nhiên.")
@click.option(
    "--chi-tao", "only_build", is_flag=True, help="Chỉ tạo biểu mẫu mẫu, không chạy tổng hợp."
)
@catalogue_option
@output_options
@friendly_errors
def demo_command(
    samples_dir: str,
    seed: int,
    only_build: bool,
    catalogue_path: str | None,
    output_root: str | None,
    history_path: str | None,
    workspace: str | None,
) -> None:
    """Tạo thị trấn mẫu (samples/) rồi chạy tổng hợp tháng 10, 11 và lập dự thảo quyết định."""
    from processor.demo import build_sample_town

    catalogue = _load(catalogue_path)
    written = build_sample_town(catalogue, Path(samples_dir), seed)
    click.echo(
        f"Đã tạo thị trấn mẫu trong {samples_dir}/: "
        + ", ".join(f"kỳ {p}: {len(v)} tệp" for p, v in written.items())
    )
    if only_build:
        return
    periods = sorted(written)
    where = places(catalogue_path, output_root, workspace, history_path)
    code = EXIT_OK
    for period in periods:
        inbox = Path(samples_dir) / ("inbox" if period == periods[-1] else period)
        code = max(
            code,
            _run(
                inbox,
                Period.parse(period),
                catalogue_path,
                where,
                None,
                with_decisions=False,
                new_store=True,  # the sample town's own store
            ),
        )
    _decisions(catalogue, Period.parse(periods[-1]).year, where, pdf=False)
    sys.exit(code)


@main.command("thu")
@click.argument("source", metavar="NGUON")
@click.option("--ky", "period", required=True, callback=_period, help="Kỳ báo cáo, dạng 2021-11.")
@click.option(
    "--vao",
    "inbox",
    type=click.Path(file_okay=False),
    help="Thư mục lưu biểu mẫu (mặc định hop_thu/<kỳ>/).",
)
@click.option(
    "--danh-dau-da-doc",
    "mark_read",
    is_flag=True,
    help="Đánh dấu đã đọc các thư đã lấy biểu mẫu (IMAP, Maildir); mặc định không đổi hộp thư.",
)
@catalogue_option
@store_options
@friendly_errors
def collect_command(
    source: str,
    period: Period,
    inbox: str | None,
    mark_read: bool,
    catalogue_path: str | None,
    history_path: str | None,
    workspace: str | None,
) -> None:
    """Lấy biểu mẫu đính kèm trong thư về hộp thư của kỳ.

    NGUON: thư mục chứa tệp .eml, tệp .mbox, thư mục Maildir, hoặc hộp thư IMAP
    imaps://tên@máy-chủ[:cổng]/THƯ_MỤC (imap:// dùng STARTTLS). Mật khẩu lấy từ biến môi
    trường KIEUMAU_MAT_KHAU hoặc được hỏi khi chạy; không bao giờ đọc từ tệp.
    """
    from processor.mail.collect import collect_mail
    from processor.mail.sources import open_source
    from processor.store.lock import StoreLock

    catalogue = _load(catalogue_path)
    where = places(catalogue_path, None, workspace, history_path)
    target = Path(inbox) if inbox else Path("hop_thu") / str(period)

    def ask(text: str) -> str:
        return click.prompt(text, hide_input=True)

    with (
        StoreLock(where.history.with_suffix(".khoa"), f"Kho lịch sử {where.history}"),
        open_source(source, environ=dict(os.environ), prompt=ask, writable=mark_read) as box,
    ):
        report = collect_mail(
            box,
            period,
            catalogue,
            target,
            where.history,
            mark_read=mark_read,
            progress=lambda n: _progress("Đọc thư", n, n) if n % 10 == 0 else None,
        )
    _print_collect_report(report, catalogue, mark_read)
    sys.exit(report.exit_code)


_MAX_LISTED = 12  # lines per list on the one-screen report; the rest are counted


def _print_listed(title: str, items: list, colour: str | None = None) -> None:
    if not items:
        return
    click.secho(f"{title} ({len(items)}):", fg=colour)
    for item in items[:_MAX_LISTED]:
        click.echo(f"  - {item}")
    if len(items) > _MAX_LISTED:
        click.echo(f"  … và {len(items) - _MAX_LISTED} mục khác.")


def _print_collect_report(report, catalogue: Catalogue, mark_read: bool) -> None:
    since = report.since.strftime("%d/%m/%Y")
    click.echo(
        f"THU THƯ kỳ {report.period} từ {report.source}: đọc {report.mails} thư "
        f"({report.new} mới, {report.seen_before} đã lấy trước đây)"
        + (f"; {report.older} thư trước {since} không xét" if report.older else "")
        + "."
    )
    click.echo(f"Đã lưu {len(report.saved)} biểu mẫu vào {report.inbox}/.")
    counts = [f"{code}: {n}" for code, n in sorted(report.forms_by_unit.items())]
    for start in range(0, len(counts), 8):
        click.echo("  " + "   ".join(counts[start : start + 8]))
    if report.put_aside:
        click.secho(
            f"Để riêng {len(report.put_aside)} biểu mẫu cần kiểm tra trong {report.aside}/ "
            "(không đưa vào tổng hợp):",
            fg="red",
        )
        for saved in report.put_aside[:_MAX_LISTED]:
            click.echo(f"  - {saved.path.name}: {saved.mail}")
    _print_listed("Thư cần xem", report.problems, "red")
    _print_listed("Tệp không lưu", report.not_saved, "yellow")
    _print_listed("Lưu ý", report.remarks, "yellow")
    if report.missing_units:
        click.secho(
            f"Đơn vị chưa có biểu mẫu kỳ này qua thư ({len(report.missing_units)}/"
            f"{len(catalogue.units)}): " + ", ".join(u.code for u in report.missing_units),
            fg="yellow",
        )
    else:
        click.secho("Mọi đơn vị đã có biểu mẫu kỳ này.", fg="green")
    if mark_read:
        if report.marked_read is None:
            click.echo("Nguồn này không có trạng thái đã đọc: hộp thư không đổi.")
        else:
            click.echo(f"Đã đánh dấu đã đọc {report.marked_read} thư.")
    click.echo(f"Bước tiếp: kieumau run {report.inbox} --ky {report.period}")


@main.command("gui")
@click.option("--ky", "period", required=True, callback=_period, help="Kỳ báo cáo, dạng 2021-11.")
@click.option(
    "--smtp",
    "smtp_url",
    help="Gửi qua máy chủ smtps://tên@máy-chủ[:cổng] (smtp:// dùng STARTTLS); không ghi thì "
    "chỉ soạn thư nháp .eml vào output/<kỳ>/thu_gui/.",
)
@click.option(
    "--nhac-nop",
    "remind",
    is_flag=True,
    help="Nhắc các đơn vị chưa nộp, kèm biểu mẫu của kỳ (điền sẵn nếu có) và hạn nộp.",
)
@click.option("--gui-lai", "resend", is_flag=True, help="Gửi lại cả cho đơn vị đã gửi trước đây.")
@click.option(
    "--don-vi", "unit_codes", multiple=True, help="Chỉ gửi cho đơn vị này (lặp lại được)."
)
@catalogue_option
@output_options
@friendly_errors
def send_command(
    period: Period,
    smtp_url: str | None,
    remind: bool,
    resend: bool,
    unit_codes: tuple[str, ...],
    catalogue_path: str | None,
    output_root: str | None,
    history_path: str | None,
    workspace: str | None,
) -> None:
    """Gửi mỗi đơn vị một thư: tệp phản hồi và biểu mẫu kỳ sau (hoặc thư nhắc nộp).

    Mật khẩu máy chủ lấy từ biến môi trường KIEUMAU_MAT_KHAU hoặc được hỏi khi chạy.
    Thư đã gửi được ghi vào kho lịch sử: chạy lại không gửi trùng, trừ khi có --gui-lai.
    """
    from processor.mail.send import SmtpSession, send_period
    from processor.mail.servers import parse_server, password
    from processor.store.lock import StoreLock

    catalogue = _load(catalogue_path)
    where = places(catalogue_path, output_root, workspace, history_path)
    session = None
    if smtp_url:
        server = parse_server(smtp_url, ("smtps", "smtp"))
        secret = password(
            server, dict(os.environ), lambda text: click.prompt(text, hide_input=True)
        )
        session = SmtpSession(server, secret)
    try:
        with StoreLock(where.history.with_suffix(".khoa"), f"Kho lịch sử {where.history}"):
            report = send_period(
                catalogue,
                period,
                where.output_root,
                where.history,
                where.workspace,
                session=session,
                remind=remind,
                resend=resend,
                unit_codes=unit_codes,
                progress=lambda i, n: _progress("Gửi thư", i, n),
            )
    finally:
        if session is not None:
            session.close()
    _print_send_report(report)
    sys.exit(report.exit_code)


def _print_send_report(report) -> None:
    what = "thư nhắc nộp" if report.kind == "nhac_nop" else "thư phản hồi"
    if report.server:
        click.echo(f"GỬI {what} kỳ {report.period} qua {report.server}: đã gửi {len(report.done)}.")
    else:
        click.echo(
            f"SOẠN {len(report.done)} {what} kỳ {report.period} (thư nháp .eml, mở bằng Outlook "
            f"hoặc Thunderbird rồi bấm Gửi) trong {report.folder}/."
        )
    codes = [done.unit_code for done in report.done]
    for start in range(0, len(codes), 12):
        click.echo("  " + ", ".join(codes[start : start + 12]))
    for done in report.done:
        if done.note:
            click.secho(f"  {done.unit_code}: {done.note}", fg="yellow")
    if report.already:
        click.echo(
            f"Đã gửi trước đây, không gửi lại ({len(report.already)}): "
            + ", ".join(code for code, _, _ in report.already)
            + ". Dùng --gui-lai để gửi lại."
        )
        changed = [code for code, _, differs in report.already if differs]
        if changed:
            click.secho(
                "Tệp đính kèm đã thay đổi từ lần gửi trước: "
                + ", ".join(changed)
                + " (gửi bản mới: --gui-lai --don-vi MÃ).",
                fg="yellow",
            )
    if report.not_due:
        if report.kind == "nhac_nop":
            click.echo(f"{len(report.not_due)} đơn vị đã nộp, không cần nhắc.")
        else:
            click.echo(
                f"Đơn vị chưa nộp, chưa có phản hồi ({len(report.not_due)}): "
                f"{', '.join(report.not_due)}. Nhắc nộp: kieumau gui --ky {report.period} "
                "--nhac-nop"
            )
    for item in report.by_hand:
        files = ", ".join(str(p) for p in item.files)
        click.secho(f"Gửi tay cho {item.unit.code} ({item.reason}): {files}", fg="yellow")
    if report.failed:
        click.secho(f"KHÔNG GỬI ĐƯỢC cho {len(report.failed)} đơn vị:", fg="red")
        for code, reason in report.failed:
            click.echo(f"  {code}: {reason}")
        click.secho(
            "Chạy lại lệnh sau khi sửa: các đơn vị đã nhận thư sẽ không bị gửi trùng.", fg="red"
        )


@main.group("catalogue")
def catalogue_group() -> None:
    """Bộ tiêu chí (bo_tieu_chi.xlsx)."""


@catalogue_group.command("check")
@catalogue_option
@friendly_errors
def catalogue_check(catalogue_path: str | None) -> None:
    """Kiểm tra Bộ tiêu chí; mọi lỗi được báo theo sheet và ô."""
    catalogue = _load(catalogue_path)
    click.echo(f"Bộ tiêu chí hợp lệ: {catalogue.path}")
    for title in catalogue.titles:
        criteria = catalogue.criteria_of(title.code)
        mandatory = sum(c.mandatory for c in criteria)
        click.echo(
            f"  {title.code:<4} {title.name:<22} {len(criteria):>2} tiêu chí ({mandatory} bắt buộc)"
        )
    click.echo(
        f"  {len(catalogue.tasks)} phần việc, {len(catalogue.units)} đơn vị, "
        f"mã phiên bản {catalogue.fingerprint}."
    )
    # What the year depends on, shown where the clerk checks the catalogue (issue 23).
    rules = catalogue.rules
    late = "tính" if rules.late_registration_counts else "không tính"
    click.echo(
        f"  Năm thi đua: đăng ký đúng hạn đến hết tháng {rules.registration_deadline} "
        f"(han_dang_ky), đăng ký muộn: {late} (dang_ky_muon), bình xét từ tháng "
        f"{rules.voting_month} (thang_binh_xet), tuổi tính đến ngày "
        f"{rules.age_day:02d}/{rules.age_month:02d} (ngay_tinh_tuoi)."
    )
    where = places(catalogue_path)
    source = (
        f"biến môi trường {STORE_ENV}"
        if os.environ.get(STORE_ENV)
        else "mặc định: output/kho trong thư mục dự án"
    )
    state = "" if where.history.is_file() else ", chưa có kỳ nào"
    click.echo(
        f"  Kho lịch sử: {where.history} ({source}{state}; chọn kho khác bằng --kho hoặc "
        f"{STORE_ENV})."
    )


@main.group("kho")
def store_group() -> None:
    """Kho lưu trữ và lịch sử: xem ở đâu, có những kỳ nào, xóa dữ liệu một năm."""


@store_group.command("thong-tin")
@catalogue_option
@output_options
@friendly_errors
def store_info(
    catalogue_path: str | None,
    output_root: str | None,
    history_path: str | None,
    workspace: str | None,
) -> None:
    """Cho biết kho ở đâu, các kỳ đã ghi (với Bộ tiêu chí đã chấm) và các kỳ cần chạy lại."""
    from processor.store.history import History
    from processor.store.place import known_stores

    where = places(catalogue_path, output_root, workspace, history_path)
    click.echo(f"Kho lưu trữ: {where.workspace}")
    click.echo(f"Tệp lịch sử: {where.history}")
    click.echo(f"Thư mục kết quả: {where.output_root}")
    if not where.history.is_file():
        click.echo("Kho này chưa có kỳ nào.")
    else:
        with History(where.history) as store:
            stale = store.stale()
            for used in store.catalogues():
                mark = (
                    f"  (cần chạy lại: kỳ {stale[used.period]} đã thay đổi)"
                    if used.period in stale
                    else ""
                )
                rules = f"Bộ tiêu chí {used.rules}" if used.rules else "Bộ tiêu chí không rõ"
                version = f", phiên bản {used.version}" if used.version else ""
                click.echo(f"  {used.period}: {rules}{version}{mark}")
    others = [p for p in known_stores() if p.resolve() != where.history.resolve()]
    if others:
        click.echo("Các kho khác đã dùng trên máy này: " + ", ".join(str(p.parent) for p in others))


@store_group.command("xoa-nam")
@click.argument("year", type=int)
@click.option("--dong-y", "confirmed", is_flag=True, help="Không hỏi lại trước khi xóa.")
@catalogue_option
@output_options
@friendly_errors
def store_delete_year(
    year: int,
    confirmed: bool,
    catalogue_path: str | None,
    output_root: str | None,
    history_path: str | None,
    workspace: str | None,
) -> None:
    """Xóa mọi dữ liệu cá nhân của năm YEAR: lịch sử các kỳ, tệp gốc lưu trữ và kết quả.

    Dùng khi hết thời hạn lưu giữ. Số năm liên tục đạt danh hiệu của năm sau được tính từ kết
    quả năm trước: chỉ xóa một năm khi năm sau đó đã xét xong.
    """
    import shutil

    from processor.store.archive import remove_archived
    from processor.store.history import History
    from processor.store.lock import StoreLock

    where = places(catalogue_path, output_root, workspace, history_path)
    if not where.history.is_file():
        raise KieumauError(f"Không có kho lịch sử {where.history}.")
    folders = sorted(where.output_root.glob(f"{year:04d}-[01][0-9]"))
    with History(where.history) as store:
        periods = [p for p in store.periods() if p.startswith(f"{year:04d}-")]
    if not periods and not folders:
        click.echo(f"Kho không có dữ liệu năm {year}.")
        return
    click.echo(
        f"Sẽ xóa năm {year}: {len(periods)} kỳ trong {where.history}, các tệp gốc chỉ thuộc "
        f"các kỳ đó trong {where.workspace}, và {len(folders)} thư mục kết quả "
        f"({', '.join(f.name for f in folders) or 'không có'})."
    )
    if not confirmed:
        answer = click.prompt(
            f"Gõ {year} để xác nhận xóa (Enter để thôi)", default="", show_default=False
        )
        if answer.strip() != str(year):
            click.echo("Không xóa gì.")
            return
    with StoreLock(where.history.with_suffix(".khoa"), f"Kho lịch sử {where.history}"):
        with History(where.history) as store:
            gone = store.delete_year(year)
        removed = remove_archived(where.workspace, gone)
        for folder in folders:
            shutil.rmtree(folder)
    click.echo(
        f"Đã xóa {len(periods)} kỳ, {removed} tệp gốc lưu trữ và {len(folders)} thư mục kết "
        f"quả của năm {year}."
    )


if __name__ == "__main__":
    main()
