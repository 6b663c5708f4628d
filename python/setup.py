"""`pip install` route for cfnet's Python package, offline on Debian 12 (docs/python.md, "Build and install"):

    python3 -m venv --system-site-packages .venv     # PEP 668: Debian's python3 is externally managed
    .venv/bin/pip install --no-build-isolation ./python

--no-build-isolation: pip uses the installed setuptools (Debian python3-setuptools) instead of downloading
one into an isolated environment; nothing is downloaded. The extension is built by the project's own
CMake build (target _cfnet, Release, for the interpreter running pip: numpy, pybind11 and the C++
libraries come from Debian, as for `cmake --install build --component python`); setuptools only copies
the package. CFNET_CMAKE_ARGS adds CMake arguments (e.g. -DCFNET_PYTHON_O2=ON), CFNET_BUILD_JOBS sets
the build's parallelism (default 2), CFNET_BUILD_DIR uses an existing build tree configured with
-DCFNET_BUILD_PYTHON=ON for this interpreter (its _cfnet target is brought up to date, not reconfigured)."""
import glob
import os
import re
import shlex
import shutil
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.environ.get("CFNET_SOURCE_DIR") or os.path.dirname(HERE)  # the project (tests build a copy of python/)


def version():
    with open(os.path.join(ROOT, "include", "cfnet", "config.hpp")) as f:
        return re.search(r'#define CFNET_VERSION_STRING "([^"]+)"', f.read()).group(1)


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        build = os.environ.get("CFNET_BUILD_DIR")
        if build:
            build = os.path.abspath(build)
        else:
            build = os.path.abspath(os.path.join(self.build_temp, "cmake"))
            cfg = ["cmake", "-S", ROOT, "-B", build, "-DCMAKE_BUILD_TYPE=Release", "-DCFNET_BUILD_PYTHON=ON",
                   "-DCFNET_BUILD_TESTS=OFF", "-DCFNET_BUILD_EXAMPLES=OFF", "-DCFNET_BUILD_BENCHMARKS=OFF",
                   "-DCFNET_INSTALL=OFF", f"-DCFNET_PYTHON_EXECUTABLE={sys.executable}"]
            cfg += shlex.split(os.environ.get("CFNET_CMAKE_ARGS", ""))
            subprocess.check_call(cfg)
        subprocess.check_call(["cmake", "--build", build, "--target", "_cfnet", "-j",
                               os.environ.get("CFNET_BUILD_JOBS", "2")])
        built = glob.glob(os.path.join(build, "python", "cfnet", "_cfnet*.so"))
        if len(built) != 1:
            raise RuntimeError(f"cfnet: expected one built module in {build}/python/cfnet, found {built}")
        dest = self.get_ext_fullpath(ext.name)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        shutil.copyfile(built[0], dest)


setup(
    name="cfnet",
    version=version(),
    description="Collaborative filtering with neural networks on cfnet's C++ core",
    packages=["cfnet"],
    package_data={"cfnet": ["*.pyi", "py.typed"]},
    ext_modules=[Extension("cfnet._cfnet", sources=[])],
    cmdclass={"build_ext": CMakeBuild},
    python_requires=">=3.7",
    install_requires=["numpy"],
    zip_safe=False,
)
