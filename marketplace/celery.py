import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketplace.settings")

app = Celery("marketplace")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Every area with a tasks module; a task that is not listed here is unknown to the worker.
app.autodiscover_tasks(["marketplace.search", "registry.validation", "registry.governance", "registry.notifications",
                        "registry.endpoints"])
