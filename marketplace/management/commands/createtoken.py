from django.core.management.base import BaseCommand, CommandError

from registry.kernel.errors import DomainError, NotFound
from registry.teams.selectors import user_get_by_username
from registry.tokens.models import ALL_SCOPES
from registry.tokens.services import token_create


class Command(BaseCommand):
    help = "Create an API token for USERNAME and print its key (shown only this once)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="cli", help="A label to tell the token apart (default: cli).")
        parser.add_argument(
            "--scope",
            action="append",
            dest="scopes",
            choices=ALL_SCOPES,
            help="What the token may do; repeat for several (default: every scope).",
        )
        parser.add_argument("--days", type=int, help="Days until it expires (default: MODELHUB_TOKEN_DEFAULT_DAYS).")

    def handle(self, *args, username, name, scopes, days, **options):
        try:
            user = user_get_by_username(username)
            token, key = token_create(user=user, name=name, scopes=scopes, expires_in_days=days)
        except (NotFound, DomainError) as exc:
            raise CommandError(exc.message) from None
        self.stderr.write(
            f"Token '{token.name}' for {user.username} with {', '.join(token.scopes)} until "
            f"{token.expires_at:%Y-%m-%d} (shown once; use 'Authorization: Bearer <key>'):"
        )
        self.stdout.write(key)
