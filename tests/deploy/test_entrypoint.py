"""The image's entry point (deploy/container/entrypoint) outside a container: which program each role runs, with
which arguments, where, and what the environment changes. The programs are stand-ins on a fake PATH that write
down how they were called; tests/deploy/test_image.py runs the roles for real in the image."""

import json
import os
import subprocess

import pytest

from tests.conftest import REPO

ENTRYPOINT = REPO / "deploy/container/entrypoint"


@pytest.fixture
def run(tmp_path):
    """run(*args, **env) -> (program, argv, cwd) of what the entry point exec'd, or the CompletedProcess on failure."""
    fake = tmp_path / "bin"
    fake.mkdir()
    for program in ("gunicorn", "celery", "python"):
        path = fake / program
        path.write_text(
            "#!/bin/sh\n"
            f'exec /usr/bin/env python3 -c \'import json, os, sys; print(json.dumps(["{program}", sys.argv[1:], os.getcwd()]))\' "$@"\n'
        )
        path.chmod(0o755)

    def run(*args, **env):
        done = subprocess.run(
            [ENTRYPOINT, *args],
            cwd=tmp_path,
            env={"PATH": f"{fake}:/usr/bin:/bin", "MODELHUB_DATA_DIR": "/data", **env},
            capture_output=True,
            text=True,
            timeout=30,
        )
        if done.returncode:
            return done
        program, argv, cwd = json.loads(done.stdout)
        assert cwd == str(REPO)  # the code's folder (/app in the image), wherever it was started
        return program, argv

    return run


def test_web_is_gunicorn_with_the_projects_config_on_all_addresses(run):
    program, argv = run("web")
    assert program == "gunicorn"
    assert argv[:3] == ["-c", "python:marketplace.gunicorn_conf", "marketplace.wsgi"]
    assert argv[argv.index("--bind") + 1] == "0.0.0.0:8000"
    assert (argv[argv.index("--workers") + 1], argv[argv.index("--threads") + 1]) == ("2", "4")
    program, argv = run("web", "--workers", "8", MODELHUB_BIND="127.0.0.1:9000", MODELHUB_WEB_THREADS="16")
    assert argv[argv.index("--bind") + 1] == "127.0.0.1:9000" and argv[argv.index("--threads") + 1] == "16"
    assert argv[-2:] == ["--workers", "8"]  # the caller's arguments come last, so they win


def test_worker_takes_the_default_queue_or_the_queues_named(run):
    program, argv = run("worker")
    assert program == "celery" and argv[:3] == ["-A", "marketplace", "worker"] and "-Q" not in argv
    program, argv = run("worker", "--loglevel=DEBUG", MODELHUB_WORKER_QUEUES="validation,signing")
    assert argv[argv.index("-Q") + 1] == "validation,signing" and argv[-1] == "--loglevel=DEBUG"
    program, argv = run("worker", MODELHUB_WORKER_CONCURRENCY="6")
    assert "--concurrency=6" in argv


def test_beat_keeps_its_schedule_in_the_data_folder(run):
    program, argv = run("beat")
    assert program == "celery" and argv[:3] == ["-A", "marketplace", "beat"]
    assert argv[argv.index("--schedule") + 1] == "/data/celerybeat-schedule"


def test_runtime_roles_serve_on_all_addresses_with_state_in_the_data_folder(run):
    program, argv = run("runtime")
    assert program == "python" and argv[:2] == ["-m", "registry.runtime"]
    assert argv[argv.index("--host") + 1] == "0.0.0.0" and argv[argv.index("--port") + 1] == "8080"
    assert argv[argv.index("--state-dir") + 1] == "/data/runtime" and "--model-dir" not in argv
    program, argv = run("runtime-model", "--model-name=clf", MODELHUB_RUNTIME_STATE_DIR="/tmp/state")
    assert argv[:2] == ["-m", "registry.runtime"] and argv[argv.index("--model-dir") + 1] == "/mnt/models"
    assert argv[argv.index("--state-dir") + 1] == "/tmp/state" and argv[-1] == "--model-name=clf"


def test_migrate_and_manage_run_manage_py(run):
    assert run("migrate") == ("python", ["manage.py", "migrate", "--noinput"])
    assert run("manage", "createtoken", "alice", "--name", "ci") == (
        "python",
        ["manage.py", "createtoken", "alice", "--name", "ci"],
    )


@pytest.mark.parametrize("args", [(), ("serve",)])
def test_no_role_or_an_unknown_one_is_refused_with_the_roles_listed(run, args):
    done = run(*args)
    assert done.returncode == 64 and "web, worker, beat, runtime, runtime-model, migrate, manage" in done.stderr
    assert ("unknown role: serve" in done.stderr) == bool(args)


def test_the_entry_point_is_executable_posix_sh():
    assert os.access(ENTRYPOINT, os.X_OK) and ENTRYPOINT.read_text().startswith("#!/bin/sh\n")
    subprocess.run(["sh", "-n", ENTRYPOINT], check=True)
