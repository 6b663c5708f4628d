"""The pip route of docs/python.md: a venv with --system-site-packages (PEP 668), then
`pip install --no-build-isolation --no-index` of a copy of python/, offline, reusing this build tree
(CFNET_BUILD_DIR: the module is up to date, nothing is recompiled); the installed package imports from the
venv and trains. Skipped without python3-venv / python3-pip (scripts/setup.sh installs them)."""
import os
import shutil
import subprocess
import sys

import pytest

BUILD = os.environ.get("CFNET_BUILD_DIR")
SOURCE = os.environ.get("CFNET_SOURCE_DIR")
pytestmark = pytest.mark.skipif(not BUILD or not SOURCE, reason="CFNET_BUILD_DIR / CFNET_SOURCE_DIR not set (ctest)")


def test_pip_install_offline_into_a_venv(tmp_path):
    venv = tmp_path / "venv"
    made = subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], capture_output=True)
    if made.returncode != 0 or not (venv / "bin" / "pip").exists():
        pytest.skip("python3-venv / python3-pip are not installed")
    src = tmp_path / "src"
    shutil.copytree(os.path.join(SOURCE, "python"), src,
                    ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(CFNET_BUILD_DIR=BUILD, CFNET_SOURCE_DIR=SOURCE)
    subprocess.run([str(venv / "bin" / "pip"), "install", "--no-build-isolation", "--no-index", str(src)],
                   check=True, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL)
    code = ("import cfnet; print(cfnet.__file__); m = cfnet.AutoencoderCF(hidden=[4], epochs=1); "
            "m.fit(cfnet.synthetic(n_users=50, n_items=40, n_ratings=800, seed=1, min_ratings_per_user=5), "
            "show_progress=False); print(m.fitted)")
    out = subprocess.run([str(venv / "bin" / "python"), "-c", code], check=True, env=env, cwd=tmp_path,
                         capture_output=True, text=True).stdout.split()
    assert out[0].startswith(str(venv)) and out[1] == "True"
