"""`python -m tests.identity_provider.serve`: migrate the provider's SQLite database, create the users and
clients IDP_SEED describes (JSON), and serve on 127.0.0.1:IDP_PORT with a threaded WSGI server."""

import json
import os
import socketserver
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.identity_provider.settings")


class ThreadingServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):  # one line per request, on stderr (the fixture keeps it in a log)
        super().log_message(format, *args)


def seed(spec: dict) -> None:
    from django.contrib.auth.models import Group, User
    from oauth2_provider.models import Application

    for person in spec.get("users", []):
        user = User.objects.create_user(person["username"], person.get("email", ""), person["password"])
        user.first_name, user.last_name = person.get("first_name", ""), person.get("last_name", "")
        user.save()
        for name in person.get("groups", []):
            user.groups.add(Group.objects.get_or_create(name=name)[0])
    for client in spec.get("clients", []):
        machine = client.get("grant") == "client-credentials"
        Application.objects.create(
            name=client["client_id"],
            client_id=client["client_id"],
            client_secret=client["client_secret"],
            client_type=Application.CLIENT_CONFIDENTIAL,
            authorization_grant_type=(
                Application.GRANT_CLIENT_CREDENTIALS if machine else Application.GRANT_AUTHORIZATION_CODE
            ),
            redirect_uris=" ".join(client.get("redirect_uris", [])),
            post_logout_redirect_uris=" ".join(client.get("post_logout_redirect_uris", [])),
            algorithm=Application.RS256_ALGORITHM,
            skip_authorization=True,
            user=User.objects.get(username=client["owner"]) if client.get("owner") else None,
        )


def main() -> None:
    django.setup()
    from django.core.management import call_command
    from django.core.wsgi import get_wsgi_application

    call_command("migrate", verbosity=0)
    seed(json.loads(os.environ.get("IDP_SEED", "{}")))
    server = make_server(
        "127.0.0.1", int(os.environ["IDP_PORT"]), get_wsgi_application(), ThreadingServer, QuietHandler
    )
    server.serve_forever()


if __name__ == "__main__":
    main()
