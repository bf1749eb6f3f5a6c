import os

from celery import Celery

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
