"""Command line: parse options, call one library function, print a summary, set the exit code.

Exit codes (SPEC §4): 0 everything read, 1 ran but rejected files or rows, 2 could not run.
"""

from __future__ import annotations

import functools
import os
import sys
import traceback
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import click

from processor.cli_text import vietnamese
from processor.domain import schema as S
from processor.domain.catalogue import DEFAULT_CATALOGUE, Catalogue, load_catalogue
from processor.domain.errors import KieumauError
from processor.domain.issues import ERROR
from processor.domain.periods import Period
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
)
from processor.scoring.consolidate import COUNTED

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


def output_options(command: Callable) -> Callable:
    command = click.option(
        "--kho",
        "workspace",
        type=click.Path(file_okay=False),
        default="output/kho",
        show_default=True,
        help="Kho lưu trữ tệp gốc và lịch sử.",
    )(command)
    command = click.option(
        "--lich-su",
        "history_path",
        type=click.Path(dir_okay=False),
        help="Tệp SQLite lịch sử (mặc định <kho>/lich_su.sqlite).",
    )(command)
    command = click.option(
        "--out",
        "output_root",
        type=click.Path(file_okay=False),
        default="output",
        show_default=True,
        help="Thư mục kết quả.",
    )(command)
    return command


def _period(ctx: click.Context, param: click.Parameter, value: str | None) -> Period | None:
    if value is None:
        return None
    try:
        return Period.parse(value)
    except KieumauError as exc:
        raise click.BadParameter(str(exc)) from exc


def friendly_errors(command: Callable) -> Callable:
    """Turn KieumauError into one Vietnamese line and exit 2; --verbose shows the traceback."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except KieumauError as exc:
            ctx = click.get_current_context()
            if ctx.find_root().obj and ctx.find_root().obj.verbose:
                traceback.print_exc()
            click.secho(f"Lỗi: {exc}", fg="red", err=True)
            ctx.exit(EXIT_CANNOT_RUN)

    return wrapper


def _load(catalogue_path: str | None) -> Catalogue:
    return load_catalogue(_catalogue_path(catalogue_path))


def _history_file(workspace: str, history_path: str | None) -> Path:
    return Path(history_path) if history_path else Path(workspace) / "lich_su.sqlite"


def _progress(label: str, i: int, n: int) -> None:
    if sys.stderr.isatty():
        width = 30
        done = int(width * i / max(n, 1))
        click.echo(
            f"\r{label:<16} [{'#' * done}{'.' * (width - done)}] {i}/{n}", err=True, nl=i == n
        )


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
@catalogue_option
@output_options
@friendly_errors
def run_command(
    inbox: str,
    period: Period,
    with_decisions: bool,
    workers: int | None,
    catalogue_path: str | None,
    output_root: str,
    history_path: str | None,
    workspace: str,
) -> None:
    """Chạy tổng hợp hằng tháng cho mọi tệp trong THƯ_MỤC_NHẬN."""
    code = _run(
        Path(inbox),
        period,
        catalogue_path,
        output_root,
        history_path,
        workspace,
        workers,
        with_decisions or period.month == 12,
    )
    sys.exit(code)


def _run(
    inbox: Path,
    period: Period,
    catalogue_path: str | None,
    output_root: str,
    history_path: str | None,
    workspace: str,
    workers: int | None,
    with_decisions: bool,
) -> int:
    from processor.batch import run_batch

    catalogue = _load(catalogue_path)
    report = run_batch(
        inbox,
        period,
        catalogue,
        Path(output_root),
        _history_file(workspace, history_path),
        Path(workspace),
        workers=workers,
        progress=_progress,
    )
    _print_run_summary(report, catalogue)
    if with_decisions:
        _decisions(catalogue, period.year, output_root, history_path, workspace, pdf=False)
    return report.exit_code


# How the run's summary line counts the files of each status (a status alone, "đã nhận", would
# stutter beside "đã nhận, có dòng bị loại").
_FILE_COUNTS = {
    ACCEPTED: "nhận đủ",
    ACCEPTED_WITH_ERRORS: "nhận nhưng có dòng bị loại",
    REJECTED: "bị từ chối",
    DUPLICATE: "trùng với tệp khác (tính một lần)",
    SUPERSEDED: "đã có bản mới hơn thay thế",
    OTHER_PERIOD: "của kỳ khác",
    OTHER_UNIT: "của đơn vị khác",
    IGNORED: "bỏ qua",
}
_MISSING_SHOWN = 10  # units named on the console; the summary's Chưa nộp sheet lists them all


def _n(value: int) -> str:
    """A count as Vietnamese write it: 378.845."""
    return format_number(value, 0)


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
    read, accepted, rejected = (
        _n(sum(getattr(s, key) for s in subs))
        for key in ("rows_read", "rows_accepted", "rows_rejected")
    )
    click.echo(f"Dòng dữ liệu: đọc {read}, nhận {accepted}, loại {rejected}.")
    click.echo(f"Lỗi: {_n(errors)}, cảnh báo: {_n(warnings)} (xem tệp phản hồi của từng đơn vị).")
    sent = {s.unit_code for s in subs if s.status in COUNTED}
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
    click.echo(f"Kết quả: {report.out_dir}/")
    for path in report.outputs:
        if path.parent == report.out_dir:
            click.echo(f"  - {path.name}")
    folders = Counter(p.parent.name for p in report.outputs if p.parent != report.out_dir)
    for folder, n in sorted(folders.items()):
        click.echo(f"  - {folder}/ ({_n(n)} tệp)")
    if report.exit_code:
        click.secho(
            "Có tệp hoặc dòng bị loại: gửi tệp phản hồi (phan_hoi/) cho đơn vị để sửa.", fg="yellow"
        )


@main.command("forms")
@click.option(
    "--ky", "period", required=True, callback=_period, help="Kỳ của biểu mẫu, dạng 2021-12."
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    default="input_templates/bieu_mau",
    show_default=True,
    help="Thư mục ghi biểu mẫu.",
)
@click.option(
    "--don-vi", "unit_codes", multiple=True, help="Chỉ lập cho đơn vị này (lặp lại được)."
)
@click.option("--trong", "blank", is_flag=True, help="Biểu mẫu trắng, không điền sẵn từ lịch sử.")
@click.option(
    "--kho",
    "workspace",
    type=click.Path(file_okay=False),
    default="output/kho",
    show_default=True,
    help="Kho lịch sử để điền sẵn.",
)
@click.option("--lich-su", "history_path", type=click.Path(dir_okay=False))
@catalogue_option
@friendly_errors
def forms_command(
    period: Period,
    out_dir: str,
    unit_codes: tuple[str, ...],
    blank: bool,
    workspace: str,
    history_path: str | None,
    catalogue_path: str | None,
) -> None:
    """Lập biểu mẫu cho từng đơn vị (điền sẵn danh sách và kết quả kỳ trước nếu có)."""
    from processor.outputs.prefill import write_forms

    catalogue = _load(catalogue_path)
    history = None if blank else _history_file(workspace, history_path)
    written = write_forms(catalogue, period, Path(out_dir), unit_codes, history)
    prefilled = sum(1 for _, filled in written if filled)
    click.echo(
        f"Đã lập {len(written)} biểu mẫu kỳ {period} trong {out_dir}/ "
        f"({prefilled} điền sẵn từ lịch sử, {len(written) - prefilled} biểu mẫu trắng)."
    )


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
@catalogue_option
@output_options
@friendly_errors
def decisions_command(
    year: int,
    pdf: bool,
    catalogue_path: str | None,
    output_root: str,
    history_path: str | None,
    workspace: str,
) -> None:
    """Lập dự thảo quyết định công nhận từ kết quả tháng 11 của năm."""
    catalogue = _load(catalogue_path)
    _decisions(catalogue, year, output_root, history_path, workspace, pdf)


def _decisions(
    catalogue: Catalogue,
    year: int,
    output_root: str,
    history_path: str | None,
    workspace: str,
    pdf: bool,
) -> None:
    from processor.outputs.recognition import decisions_for_year

    drafts = decisions_for_year(
        catalogue, year, Path(output_root), _history_file(workspace, history_path), pdf=pdf
    )
    click.echo(f"Đã lập {len(drafts.files)} văn bản dự thảo trong {drafts.folder}/:")
    for path in drafts.files:
        click.echo(f"  - {path.name}")
    for warning in drafts.warnings:
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
    output_root: str,
    history_path: str | None,
    workspace: str,
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
    code = EXIT_OK
    for period in periods:
        inbox = Path(samples_dir) / ("inbox" if period == periods[-1] else period)
        code = max(
            code,
            _run(
                inbox,
                Period.parse(period),
                catalogue_path,
                output_root,
                history_path,
                workspace,
                None,
                with_decisions=False,
            ),
        )
    _decisions(
        catalogue, Period.parse(periods[-1]).year, output_root, history_path, workspace, pdf=False
    )
    sys.exit(code)


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


if __name__ == "__main__":
    main()
