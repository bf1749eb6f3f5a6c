from django.core.management.base import BaseCommand, CommandError

from registry.kernel.errors import NotFound
from registry.teams.selectors import user_get_by_username
from registry.tokens.services import token_create


class Command(BaseCommand):
    help = "Create an API token for USERNAME and print its key (shown only this once)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="cli", help="A label to tell the token apart (default: cli).")

    def handle(self, *args, username, name, **options):
        try:
            user = user_get_by_username(username)
        except NotFound as exc:
            raise CommandError(exc.message) from None
        token, key = token_create(user=user, name=name)
        self.stderr.write(f"Token '{token.name}' for {user.username} (shown once; use 'Authorization: Token <key>'):")
        self.stdout.write(key)
