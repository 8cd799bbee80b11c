"""The package as Colab installs it: a wheel built from the repository carries the samples."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_a_wheel_carries_the_samples_and_finds_them(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(tmp_path / "dist"), str(ROOT)],
        check=True, capture_output=True,
    )
    wheel = next((tmp_path / "dist").glob("mrishare-*.whl"))
    from mrishare import __version__

    assert wheel.name.startswith(f"mrishare-{__version__}-")  # the version written once
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        archive.extractall(tmp_path / "site")
    shipped = {p.relative_to(ROOT / "data_samples").as_posix()
               for p in (ROOT / "data_samples").rglob("*") if p.is_file()}
    assert {f"mrishare/_samples/{name}" for name in shipped} <= names
    # Imported from the unpacked wheel (not the source tree), the samples resolve and verify.
    code = ("from mrishare import data; print(data.data_dir()); "
            "data.verify_sample('participant_T1w'); data.verify_sample('dicom_study')")
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                            text=True, env={"PYTHONPATH": str(tmp_path / "site")})
    assert result.returncode == 0, result.stderr
    assert Path(result.stdout.strip()) == tmp_path / "site" / "mrishare" / "_samples"
