"""Build the spikard package: libspikard.so (Go, c-shared) plus spikard._native.

libspikard.so is built from the repository this file lives in (the nearest
parent directory holding go.mod) with ``go build -buildmode=c-shared ./capi``
and installed inside the package; the extension finds it through an
``$ORIGIN`` rpath. Set SPIKARD_LIB to a prebuilt libspikard.so to skip the
Go build (the Makefile's build/libspikard.so, for instance).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = Path(__file__).resolve().parent
LIB_NAME = "libspikard.so"


def find_repo_root() -> Path:
    for candidate in (HERE, *HERE.parents):
        if (candidate / "go.mod").is_file():
            return candidate
    raise SystemExit(
        f"spikard: cannot build libspikard.so: no go.mod found above {HERE}. "
        "Build from a checkout of the Spikard repository (pip install ./bindings/python)."
    )


class BuildSpikard(build_ext):
    """build_ext that first builds libspikard.so and ships it in the package."""

    def run(self) -> None:
        root = find_repo_root()
        for ext in self.extensions:
            ext.include_dirs.append(str(root / "include"))
        lib_dir = Path(self.build_temp).resolve() / "libspikard"
        lib_dir.mkdir(parents=True, exist_ok=True)
        lib = lib_dir / LIB_NAME
        prebuilt = os.environ.get("SPIKARD_LIB")
        if prebuilt:
            shutil.copy2(prebuilt, lib)
        else:
            self._go_build(root, lib)
        for ext in self.extensions:
            ext.library_dirs.append(str(lib_dir))
        super().run()
        # Put the library beside the extension, in the build tree and, for
        # editable/in-place builds, in the source package.
        targets = {Path(self.build_lib) / "spikard"}
        if self.inplace:
            targets = {HERE / "spikard"}
        for target in targets:
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy2(lib, target / LIB_NAME)

    def _go_build(self, root: Path, lib: Path) -> None:
        go = shutil.which("go")
        if go is None:
            raise SystemExit(
                "spikard: the Go toolchain (go >= 1.22) is required to build libspikard.so "
                "but `go` is not on PATH. Install Go (https://go.dev/dl/) or set SPIKARD_LIB "
                "to a prebuilt libspikard.so."
            )
        cmd = [go, "build", "-buildmode=c-shared", "-o", str(lib), "./capi"]
        print("spikard:", " ".join(cmd), f"(in {root})")
        try:
            subprocess.run(cmd, cwd=root, check=True)
        except subprocess.CalledProcessError as exc:
            raise SystemExit(f"spikard: building libspikard.so failed ({exc})") from exc

    def get_outputs(self) -> list[str]:
        outputs = super().get_outputs()
        outputs.append(str(Path(self.build_lib) / "spikard" / LIB_NAME))
        return outputs


native = Extension(
    "spikard._native",
    sources=["src/_native.c"],
    libraries=["spikard"],
    extra_compile_args=["-Wall", "-Wextra", "-Wno-missing-field-initializers", "-O2"],
    extra_link_args=["-Wl,-rpath,$ORIGIN"],
)

setup(ext_modules=[native], cmdclass={"build_ext": BuildSpikard})
