import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_import_contracts_hold():
    """kernel -> catalogue -> registry -> presentation, and services never import tasks (pyproject.toml)."""
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint), "--no-cache"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def test_every_tasks_module_is_discovered_by_the_worker():
    from pathlib import Path

    from marketplace.celery import app

    app.loader.import_default_modules()
    root = Path(__file__).resolve().parents[1]
    modules = {
        ".".join(p.relative_to(root).with_suffix("").parts)
        for area in ("registry", "marketplace")
        for p in root.glob(f"{area}/**/tasks.py")
        if p.parent.name != "lib"
    }  # registry/kernel/lib/tasks.py: helpers that send tasks by name
    registered = {name.rsplit(".", 1)[0] for name in app.tasks if name.startswith(("registry.", "marketplace."))}
    assert modules <= registered, modules - registered


def test_every_periodic_task_is_known_to_the_worker():
    from django.conf import settings

    from marketplace.celery import app

    app.loader.import_default_modules()
    assert {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()} <= set(app.tasks)


def test_registry_sends_tasks_through_the_project_app_from_any_thread():
    """registry.kernel.lib.tasks reaches the Celery app as `current_app`, which is per thread unless the app is the
    default: a web server's request threads would otherwise send to a bare app's broker."""
    import threading

    from celery import current_app

    from marketplace.celery import app

    seen = []
    thread = threading.Thread(target=lambda: seen.append(current_app._get_current_object()))
    thread.start()
    thread.join()
    assert seen == [app]
