"""rehearse as users install it: a wheel built from this checkout, in a fresh venv, run from elsewhere.

The wheel must carry the shipped banks, the concept lexicon, the demo answer and the spoken shipped questions;
nothing may reach back into the checkout.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.model]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built from this checkout."""
    wheels = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(ROOT)],
                   check=True, capture_output=True, cwd=wheels)
    (built,) = wheels.glob("rehearse-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv outside the checkout with the wheel (and its dependencies) installed; its bin/."""
    base = tmp_path_factory.mktemp("wheel")
    env_dir = base / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    pip = [str(env_dir / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # pip must not see the checkout's egg-info
    r = subprocess.run([*pip, str(wheel)], capture_output=True, text=True, cwd=base, env=env)
    assert r.returncode == 0, r.stderr[-2000:]
    return env_dir / "bin"


def run(bin_dir: Path, *args: str, home: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REHEARSE_PROMPTS", "PYTHONPATH"))}
    env.update(REHEARSE_HOME=str(home), HF_HUB_OFFLINE="1")
    return subprocess.run([str(bin_dir / "rehearse"), *args], capture_output=True, text=True, env=env,
                          cwd=home, timeout=600)


def test_the_wheel_finds_its_banks_and_scores_outside_the_checkout(installed: Path, tmp_path: Path):
    r = run(installed, "questions", "check", home=tmp_path)
    assert r.returncode == 0 and r.stdout.strip() == "OK: 5 banks, 30 questions", r.stdout + r.stderr
    r = run(installed, "score", "-q", "blip2", "--json", "--no-save", "--text",
            "BLIP-2 里图像编码器的权重不变，中间放一个 Q-Former，用一组可学习的 query。", home=tmp_path)
    assert r.returncode == 0, r.stderr
    import json

    points = {p["id"]: p for p in json.loads(r.stdout)["points"]}
    assert points["frozen"]["covered"] and points["qformer"]["covered"]
    assert points["frozen"]["evidence"]["by"] == "meaning"  # the lexicon travelled with the wheel
    r = run(installed, "demo", home=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "Scoring the example answer 3d-ssgan.flac" in r.stdout and "coverage" in r.stdout
    r = run(installed, "--version", home=tmp_path)
    assert r.returncode == 0 and r.stdout.startswith("rehearse ")


def test_the_wheel_carries_every_spoken_question_and_a_new_user_hears_them(wheel: Path, installed: Path,
                                                                             tmp_path: Path):
    import zipfile

    from rehearse.voices.cache import SHIPPED
    from rehearse.voices.shipped import MANIFEST, SUFFIX, read_manifest

    clips = read_manifest(SHIPPED)
    assert len(clips) == 30
    with zipfile.ZipFile(wheel) as z:
        names = {n for n in z.namelist() if n.startswith("rehearse/data/spoken/")}
    assert names == {f"rehearse/data/spoken/{n}" for n in [MANIFEST, *(f"{k}{SUFFIX}" for k in clips)]}
    # the installed package finds them, under the key a default speaker computes, and decodes them
    script = ("import sys; from pathlib import Path; from rehearse.voices.cache import SHIPPED, AudioCache; "
              "from rehearse.rubric import load_library; from rehearse.voices.shipped import default_key; "
              "cache = AudioCache(Path(sys.argv[1])); "
              "got = [cache.get(default_key(q.question, q.language)) for q in load_library().questions]; "
              "print(SHIPPED, sum(p is not None and p.stat().st_size > 24000 for p in got))")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REHEARSE_PROMPTS", "PYTHONPATH"))}
    r = subprocess.run([str(installed / "python"), "-c", script, str(tmp_path / "speech")], capture_output=True,
                       text=True, env=env, cwd=tmp_path, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    where, found = r.stdout.split()
    assert "site-packages" in where and not where.startswith(str(ROOT)) and found == "30"
