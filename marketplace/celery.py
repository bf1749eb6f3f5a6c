import os
import sys

from celery import Celery
from celery.apps.worker import safe_say
from celery.signals import task_prerun, worker_process_init, worker_shutting_down

from registry.kernel.lib.draining import drain_pool_processes, install_drain_handler, keep_drain_handler

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketplace.settings")

app = Celery("marketplace")
app.config_from_object("django.conf:settings", namespace="CELERY")
# The registry sends tasks through `celery.current_app` (it never imports this project): make this app the one
# every thread sees, not only the thread that imported it.
app.set_default()
# Every area with a tasks module; a task that is not listed here is unknown to the worker.
app.autodiscover_tasks(
    [
        "registry.search",
        "registry.validation",
        "registry.governance",
        "registry.notifications",
        "registry.endpoints",
        "registry.monitoring",
        "registry.uploads",
    ]
)


# A warm shutdown (SIGTERM) hands the claimed jobs back at once instead of waiting for them
# (registry/kernel/lib/draining.py): the main process signals its pool processes, whose tasks release their claims
# and send their jobs again. A cold shutdown or a SIGKILL leaves them to their leases.
@worker_process_init.connect
def _drain_on_signal(**kwargs) -> None:
    install_drain_handler()


@task_prerun.connect
def _keep_draining_on_signal(**kwargs) -> None:
    keep_drain_handler()


@worker_shutting_down.connect
def _drain_pool(sig=None, how=None, exitcode=None, **kwargs) -> None:
    if how == "Warm" and (pids := drain_pool_processes()):
        # In a signal handler: print as celery's own "Warm shutdown" line does, not through logging.
        safe_say(f"worker: pool processes {pids} asked to hand their jobs back", sys.__stdout__)
