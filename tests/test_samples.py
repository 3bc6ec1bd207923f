"""The committed sample town is exactly what `kieumau demo` makes."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from processor.cli import main

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def test_demo_reproduces_the_committed_samples(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["demo", "--chi-tao", "--samples", str(tmp_path)])
    assert result.exit_code == 0, result.output
    made = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.xlsx"))
    committed = sorted(p.relative_to(SAMPLES) for p in SAMPLES.rglob("*.xlsx"))
    assert made == committed
    assert len(made) == 56  # 28 units, October and November
    for relative in made:
        # Byte-identical: the writer fixes the creation date, so content equality is exact.
        assert (tmp_path / relative).read_bytes() == (SAMPLES / relative).read_bytes(), relative


def test_sample_town_has_the_real_size(catalogue) -> None:
    from processor.intake.reader import read_submission

    citizens = households = 0
    for path in sorted((SAMPLES / "inbox").glob("*.xlsx")):
        sub = read_submission(path, catalogue)
        assert sub.rows_rejected == 0, path
        citizens += len(sub.citizens)
        households += len(sub.households)
    assert 23_000 <= citizens <= 27_000
    assert 5_500 <= households <= 6_500
