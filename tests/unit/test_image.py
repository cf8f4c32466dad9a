"""The image and the production shape make the promises the README's operator section makes
(hadolint, in .ci/run, lints the Dockerfile itself)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")
INSTRUCTIONS = [
    line for line in re.sub(r"\\\n", " ", DOCKERFILE).splitlines() if line and line[0] != "#"
]


def _index(prefix: str) -> int:
    return next(i for i, line in enumerate(INSTRUCTIONS) if line.startswith(prefix))


def test_the_dependencies_are_installed_in_a_layer_before_the_code() -> None:
    dependencies = _index("COPY pyproject.toml requirements.lock")
    assert "requirements.lock" in INSTRUCTIONS[dependencies + 1]  # installed from the lock
    assert dependencies + 1 < _index("COPY bot")  # before any code is copied
    assert "--no-deps" in INSTRUCTIONS[_index("RUN /opt/pmo-bot/bin/pip install")]


def test_the_base_is_pinned_and_the_user_numeric_and_the_data_in_a_volume() -> None:
    bases = [line.split()[1] for line in INSTRUCTIONS if line.startswith("FROM")]
    assert bases and all(re.fullmatch(r"python:\d+\.\d+\.\d+-slim-\w+", b) for b in bases), bases
    assert re.fullmatch(r"USER \d+:\d+", INSTRUCTIONS[_index("USER")])
    assert 'VOLUME ["/data"]' in INSTRUCTIONS
    assert "DATABASE_URL=sqlite:////data/pmo-bot.sqlite" in INSTRUCTIONS[_index("ENV")]
    assert INSTRUCTIONS[_index("ENTRYPOINT")] == 'ENTRYPOINT ["tini", "--"]'


def test_the_healthcheck_asks_readiness_in_exec_form() -> None:
    check = INSTRUCTIONS[_index("HEALTHCHECK")]
    assert 'CMD ["python", "-c"' in check and "/readyz" in check


def test_the_build_context_leaves_out_what_the_image_does_not_need() -> None:
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert {".git", ".venv", "*.sqlite", ".env", "tests"} <= set(ignored)


def test_compose_runs_two_replicas_on_postgresql_with_secrets_from_the_environment() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    db, bot = compose["services"]["db"], compose["services"]["pmo-bot"]
    assert db["image"].startswith("postgres:") and "pg_isready" in db["healthcheck"]["test"]
    assert bot["deploy"]["replicas"] == 2
    assert bot["depends_on"] == {"db": {"condition": "service_healthy"}}
    assert bot["environment"]["DATABASE_URL"].startswith("postgresql://pmo:${POSTGRES_PASSWORD}@db")
    assert bot["env_file"] == ".env"
    assert "xox" not in (ROOT / "compose.yaml").read_text(encoding="utf-8")
