"""Build hook: compile the C library with cargo and ship it in the package.

`pip install ./misp-ffi/python` (from the repository root) runs
`cargo build --release -p misp-ffi` and copies `libmisp_correlate_ffi.so`
(`.dylib`, `.dll`) and the header `misp_correlate.h` into the package.

Environment variables:

* ``MISP_CORRELATE_PREBUILT_LIB``: path of an already built library; cargo
  is not run.
* ``MISP_CORRELATE_PROFILE``: cargo profile to build (default ``release``).
* ``CARGO``, ``CARGO_TARGET_DIR``: as for cargo.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

try:  # setuptools >= 70.1
    from setuptools.command.bdist_wheel import bdist_wheel
except ImportError:  # pragma: no cover - older setuptools
    from wheel.bdist_wheel import bdist_wheel

HERE = Path(__file__).resolve().parent
FFI_DIR = HERE.parent
WORKSPACE = FFI_DIR.parent
HEADER = FFI_DIR / "include" / "misp_correlate.h"

if sys.platform == "darwin":
    LIBRARY = "libmisp_correlate_ffi.dylib"
elif sys.platform == "win32":
    LIBRARY = "misp_correlate_ffi.dll"
else:
    LIBRARY = "libmisp_correlate_ffi.so"


def built_library() -> Path:
    """Builds the library with cargo (unless prebuilt) and returns its path."""
    prebuilt = os.environ.get("MISP_CORRELATE_PREBUILT_LIB")
    if prebuilt:
        path = Path(prebuilt)
        if not path.is_file():
            raise SystemExit(f"MISP_CORRELATE_PREBUILT_LIB={prebuilt}: no such file")
        return path
    profile = os.environ.get("MISP_CORRELATE_PROFILE", "release")
    cargo = os.environ.get("CARGO", "cargo")
    command = [
        cargo, "build", "--profile", profile, "-p", "misp-ffi",
        "--manifest-path", str(WORKSPACE / "Cargo.toml"),
    ]
    print("running", " ".join(command), flush=True)
    subprocess.run(command, check=True, cwd=WORKSPACE)
    target = Path(os.environ.get("CARGO_TARGET_DIR", WORKSPACE / "target"))
    directory = "debug" if profile in ("dev", "test") else profile
    path = target / directory / LIBRARY
    if not path.is_file():
        raise SystemExit(f"cargo succeeded but {path} does not exist")
    return path


class BuildWithLibrary(build_py):
    """build_py that adds the C library and its header to the package."""

    def run(self):
        super().run()
        package_dir = Path(self.build_lib) / "misp_correlate"
        package_dir.mkdir(parents=True, exist_ok=True)
        shutil.copy2(built_library(), package_dir / LIBRARY)
        shutil.copy2(HEADER, package_dir / "misp_correlate.h")


class PlatformWheel(bdist_wheel):
    """The wheel holds a native library: tag it for the platform, any Python 3."""

    def finalize_options(self):
        super().finalize_options()
        self.root_is_pure = False

    def get_tag(self):
        _, _, platform = super().get_tag()
        return "py3", "none", platform


setup(cmdclass={"build_py": BuildWithLibrary, "bdist_wheel": PlatformWheel})
