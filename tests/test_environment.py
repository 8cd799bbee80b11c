"""environment.yml (Binder's environment and the one source of pins) and postBuild.

Binder installs environment.yml, then runs postBuild; ``make install`` installs the same pins
(tools/pins.py) into .venv. These tests fail when the three drift apart, when build or test
tools creep into Binder's environment, or when postBuild would not give a working mrishare.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import venv
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
ENV_FILE = ROOT / "environment.yml"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
ENV = yaml.safe_load(ENV_FILE.read_text(encoding="utf-8"))
# Names that build the book or run the tests: Binder's environment must not carry them.
TOOLS = {
    "jupyter-book",
    "sphinx",
    "pytest",
    "pytest-xdist",
    "ruff",
    "codespell",
    "playwright",
    "hatchling",
    "build",
    "nbclient",
    "nbconvert",
    "pre-commit",
    "tox",
    "mypy",
    "basedpyright",
    "pyright",
}
# Core dependencies every install needs (the README says what each is for).
CORE = {
    "numpy", "scipy", "nibabel", "pydicom", "matplotlib", "simpleitk",
    "dcm2niix", "bidsschematools", "dicom-anonymizer", "pooch", "tqdm", "pandas", "pyyaml",
    "jinja2", "filelock", "opencv-python-headless", "isal",
}


def _conda_deps() -> list[str]:
    return [d for d in ENV["dependencies"] if isinstance(d, str)]


def _pip_pins() -> dict[str, str]:
    """``{canonical name: version}`` of the pip section; every entry must be ``name==version``."""
    sections = [d["pip"] for d in ENV["dependencies"] if isinstance(d, dict) and "pip" in d]
    assert len(sections) == 1, f"{ENV_FILE}: expected one '- pip:' section, found {len(sections)}"
    pins = {}
    for entry in sections[0]:
        req = Requirement(entry)
        specs = list(req.specifier)
        assert len(specs) == 1 and specs[0].operator == "==", (
            f"{ENV_FILE}: {entry!r} is not pinned as name==version"
        )
        name = canonicalize_name(req.name)
        assert name not in pins, f"{ENV_FILE}: {req.name} is pinned twice"
        pins[name] = specs[0].version
    return pins


PINS = _pip_pins()


def _extra(name: str) -> list[Requirement]:
    return [Requirement(r) for r in PYPROJECT["project"]["optional-dependencies"].get(name, [])]


def test_environment_parses_with_a_name_and_conda_forge():
    assert ENV["name"] == "mrishare"
    assert "conda-forge" in ENV["channels"]
    assert "pip" in _conda_deps()


def test_python_is_311():
    pythons = [d for d in _conda_deps() if re.match(r"python\b", d)]
    assert pythons == ["python=3.11"], pythons
    assert sys.version_info[:2] == (3, 11), "the .venv must run the Python that Binder runs"


def test_no_build_or_test_tools():
    tools = TOOLS | {canonicalize_name(r.name) for r in _extra("book") + _extra("test")}
    # Packages a notebook needs at run time may also be test tools; none is today.
    creeping = sorted(set(PINS) & {canonicalize_name(t) for t in tools})
    conda_names = {canonicalize_name(re.split(r"[=<>! ]", d)[0]) for d in _conda_deps()}
    creeping += sorted(conda_names & tools)
    assert not creeping, f"{ENV_FILE} carries build or test tools: {creeping}"


def _core() -> list[Requirement]:
    return [Requirement(r) for r in PYPROJECT["project"]["dependencies"]]


def test_core_dependencies_are_the_documented_ones():
    names = {canonicalize_name(r.name) for r in _core()}
    assert names == CORE
    readme = (ROOT / "README.md").read_text(encoding="utf-8").lower()
    for name in sorted(CORE):
        assert name in readme.replace("_", "-"), f"README.md does not say what {name} is for"


def test_nilearn_is_for_the_notebooks_only():
    assert "nilearn" not in {canonicalize_name(r.name) for r in _core()}
    assert "nilearn" in {canonicalize_name(r.name) for r in _extra("notebooks")}
    assert "nilearn" in PINS, "Binder runs the notebooks: environment.yml pins nilearn"


@pytest.mark.parametrize("extra", ["book", "test"])
def test_build_and_test_tools_are_pinned_exactly(extra):
    for requirement in _extra(extra):
        specs = list(requirement.specifier)
        assert len(specs) == 1 and specs[0].operator == "==", (
            f"pyproject's {extra} extra: {requirement} is not pinned as name==version"
        )


def test_the_type_checker_is_a_test_tool():
    assert "basedpyright" in {canonicalize_name(r.name) for r in _extra("test")}


@pytest.mark.parametrize("requirement", _core() + _extra("notebooks"), ids=str)
def test_every_dependency_is_pinned_within_its_bound(requirement):
    name = canonicalize_name(requirement.name)
    assert name in PINS, (
        f"{requirement.name} is a dependency in pyproject.toml, not pinned in {ENV_FILE}"
    )
    assert requirement.specifier.contains(PINS[name], prereleases=True), (
        f"{ENV_FILE} pins {requirement.name}=={PINS[name]}, outside pyproject's {requirement}"
    )


@pytest.mark.parametrize("name", sorted(PINS))
def test_installed_version_equals_the_pin(name):
    try:
        installed = importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        pytest.fail(
            f"{name} is pinned in {ENV_FILE} but not installed in {sys.prefix} (make install)"
        )
    assert Version(installed) == Version(PINS[name]), (
        f"{name} {installed} is installed, {ENV_FILE} pins {PINS[name]}: run `make install`"
    )


def test_pins_tool_prints_the_pip_section():
    out = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "pins.py"), str(ENV_FILE)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    printed = {
        canonicalize_name(Requirement(line).name): str(
            next(iter(Requirement(line).specifier)).version
        )
        for line in out
    }
    assert len(out) == len(PINS)
    assert printed == PINS


# --------------------------------------------------------------------------- postBuild


def _ignore(folder: str, names: list[str]) -> set[str]:
    return {
        n
        for n in names
        if n
        in {
            ".venv",
            "_build",
            ".git",
            "node_modules",
            "__pycache__",
            ".pytest_cache",
            ".ruff_cache",
        }
        or n.endswith(".egg-info")
    }


@pytest.mark.slow
def test_postbuild_installs_a_working_mrishare(tmp_path):
    """Run postBuild as Binder does, in a fresh clone-like copy, in a new environment.

    The new environment is a venv whose only extra packages are those of .venv, seen through
    a plain path entry (not .venv's own .pth files, so the editable install of the checkout
    stays invisible): the pinned dependencies are there as Binder's environment.yml gives
    them, and mrishare is only there if postBuild installs it. Then, from outside the
    checkout, mrishare imports from the new environment and finds its sample data.
    """
    postbuild = ROOT / "postBuild"
    assert os.access(postbuild, os.X_OK), f"{postbuild} is not executable (git add --chmod=+x)"
    clone = tmp_path / "repo"
    shutil.copytree(ROOT, clone, ignore=_ignore)
    env_dir = tmp_path / "binder"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    new_site = Path(
        subprocess.run(
            [
                env_dir / "bin" / "python",
                "-c",
                "import sysconfig; print(sysconfig.get_path('purelib'))",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    (new_site / "binder_environment.pth").write_text(sysconfig.get_path("purelib") + "\n")
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "PIP_"))
    }
    env["PATH"] = f"{env_dir / 'bin'}{os.pathsep}{env['PATH']}"
    env["PIP_NO_INDEX"] = "1"  # the build backend comes from the environment, never the internet
    env["PIP_NO_BUILD_ISOLATION"] = "0"
    run = subprocess.run(
        ["bash", str(clone / "postBuild")],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, f"postBuild failed:\n{run.stdout}\n{run.stderr}"

    check = (
        "import mrishare, mrishare.data as d; print(mrishare.__file__); "
        "names = list(d.list_samples()['name']); [d.verify_sample(n) for n in names]; "
        "print(len(names))"
    )
    done = subprocess.run(
        [env_dir / "bin" / "python", "-c", check],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    location, count = done.stdout.split()
    assert Path(location).is_relative_to(new_site), f"mrishare imported from {location}"
    assert int(count) > 0
