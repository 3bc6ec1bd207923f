"""Profile a whole `kieumau run` (and optionally `quyet-dinh`) with cProfile; print the top.

    /work/venv/bin/python benchmarks/profile_run.py --scale town
    /work/venv/bin/python benchmarks/profile_run.py --scale town --decisions --top 25

This is `python -m cProfile -o PROF -m processor.cli run INBOX --ky 2021-11 --workers 1 …`
on a generated inbox, then pstats sorted by cumulative and by own time. `--workers 1` keeps the
reading in the profiled process (with worker processes cProfile would only see the pool waiting);
pass `--workers 0` to profile the default parallel run. The .prof files stay for snakeviz or
`python -m pstats`.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import pstats
import subprocess
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent


def _short(func: tuple[str, int, str]) -> str:
    filename, line, name = func
    if filename == "~":
        return name  # a C function: {built-in method ...}
    path = Path(filename)
    parts = path.parts
    for anchor in ("site-packages", "processor", "lib"):
        if anchor in parts:
            i = len(parts) - 1 - parts[::-1].index(anchor)
            rest = parts[i + 1 :] if anchor != "processor" else parts[i:]
            return f"{'/'.join(rest)}:{line}({name})"
    return f"{path.name}:{line}({name})"


def _scaffolding(func: tuple[str, int, str]) -> bool:
    """Frames every call goes through (runpy, exec, click, the CLI wrapper): 100% each, no news."""
    filename, _, name = func
    return (
        filename in ("<string>", "<frozen runpy>")
        or "/click/" in filename
        or filename.endswith(("processor/cli.py", "cProfile.py", "profile.py"))
        or name in ("<built-in method builtins.exec>",)
    )


def top(prof: Path, key: str, n: int, only_processor: bool = False) -> str:
    stats = pstats.Stats(str(prof), stream=io.StringIO())
    total = stats.total_tt
    rows = sorted(
        (
            (f, v)
            for f, v in stats.stats.items()  # type: ignore[attr-defined]
            if not _scaffolding(f) and (not only_processor or "/processor/" in f[0])
        ),
        key=lambda kv: kv[1][3 if key == "cumulative" else 2],
        reverse=True,
    )[:n]
    lines = [f"{'ncalls':>10} {'tottime':>8} {'cumtime':>8} {'cum %':>6}  function"]
    for func, (_, ncalls, tottime, cumtime, _) in rows:
        lines.append(
            f"{ncalls:>10} {tottime:8.2f} {cumtime:8.2f} {cumtime / total:6.0%}  {_short(func)}"
        )
    return f"total {total:.2f} s (profiled)\n" + "\n".join(lines)


def report(prof: Path, n: int) -> None:
    print("-- by cumulative time")
    print(top(prof, "cumulative", n))
    print("-- by own time (tottime)")
    print(top(prof, "tottime", n))
    print("-- processor/ functions only, by cumulative time (where in the package the time goes)")
    print(top(prof, "cumulative", n, only_processor=True))


def profile(command: list[str], prof: Path, cwd: Path) -> int:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    full = [sys.executable, "-m", "cProfile", "-o", str(prof), "-m", "processor.cli", *command]
    done = subprocess.run(full, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if done.returncode not in (0, 1):
        sys.exit(f"{' '.join(full)} failed:\n{done.stderr[-3000:]}")
    return done.returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="cProfile a whole kieumau run.")
    parser.add_argument("--scale", default="town", choices=("town", "district", "large"))
    parser.add_argument("--ky", default="2021-11")
    parser.add_argument("--workers", type=int, default=1, help="0: kieumau's default (cores)")
    parser.add_argument("--decisions", action="store_true", help="also profile quyet-dinh")
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--prof", type=Path, default=Path("/tmp/prof.out"), help="run profile")
    parser.add_argument(
        "--show", action="store_true", help="only print the tables of an existing --prof file"
    )
    args = parser.parse_args(argv)
    if args.show:
        report(args.prof, args.top)
        return 0
    subprocess.run([sys.executable, str(BENCH / "generate.py"), "--scale", args.scale], check=True)
    manifest = json.loads((BENCH / "_data" / args.scale / "manifest.json").read_text())
    with tempfile.TemporaryDirectory(prefix="kieumau-prof-") as tmp:
        out = Path(tmp)
        common = ["--bo-tieu-chi", manifest["catalogue"], "--out", str(out), "--kho", f"{out}/kho"]
        run = ["run", manifest["inbox"], "--ky", args.ky, *common]
        if args.workers:
            run += ["--workers", str(args.workers)]
        profile(run, args.prof, out)
        print(f"== kieumau {' '.join(run[:4])} … (profile {args.prof})")
        report(args.prof, args.top)
        if args.decisions:
            prof = args.prof.with_name(args.prof.stem + "-quyet-dinh" + args.prof.suffix)
            profile(["quyet-dinh", "--nam", args.ky[:4], *common], prof, out)
            print(f"\n== kieumau quyet-dinh --nam {args.ky[:4]} (profile {prof})")
            report(prof, args.top)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
