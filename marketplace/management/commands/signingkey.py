from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from registry.governance.keys import (
    signing_key_activate,
    signing_key_add,
    signing_key_list,
    signing_key_retire,
    signing_key_revoke,
)
from registry.kernel.errors import DomainError
from registry.validation.upstream import upstream_key_list, upstream_key_trust, upstream_key_untrust


def _read(path: str, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise CommandError(f"cannot read the {what} {path}: {exc.strerror or exc}") from None


def _when(moment) -> str:
    return f"{moment:%Y-%m-%d %H:%M}" if moment else "-"


class Command(BaseCommand):
    help = (
        "The organisation's signing keyring (the key that signs approvals, and the earlier ones that still verify) "
        "and the keys trusted for signatures made upstream (model.sig). Key ids may be given as a prefix of at "
        "least 8 hex digits. Rotate: `add --generate --activate` (the old key is retired: it verifies what it "
        "signed); `revoke KEY_ID --reason TEXT` when a key must no longer be trusted."
    )

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        actions.add_parser("list", help="The keyring and the trusted upstream keys.")
        add = actions.add_parser("add", help="Add a key to the keyring (pending unless --activate).")
        source = add.add_mutually_exclusive_group(required=True)
        source.add_argument("--generate", action="store_true", help="Generate a P-256 key.")
        source.add_argument("--private-key-file", metavar="PATH", help="An unencrypted PEM EC private key.")
        add.add_argument("--name", default="", help="A label to tell the key apart (e.g. 2027).")
        add.add_argument("--activate", action="store_true", help="Sign new approvals with it from now on.")
        for name, text in (
            ("activate", "Sign new approvals with this key; the active key is retired."),
            ("retire", "Stop a (pending) key from signing; what it signed still verifies."),
        ):
            actions.add_parser(name, help=text).add_argument("key_id", metavar="KEY_ID")
        revoke = actions.add_parser("revoke", help="Revoke a key: its signatures no longer verify.")
        revoke.add_argument("key_id", metavar="KEY_ID")
        revoke.add_argument("--reason", required=True, help="Why (consumers see it).")
        trust = actions.add_parser("trust", help="Trust a public key for signatures made upstream (model.sig).")
        trust.add_argument("--public-key-file", metavar="PATH", required=True, help="A PEM EC public key.")
        trust.add_argument("--name", required=True, help="Who signs with it (e.g. the training pipeline).")
        actions.add_parser("untrust", help="Stop trusting an upstream key.").add_argument("key_id", metavar="KEY_ID")

    def handle(self, *args, action, **options):
        try:
            getattr(self, f"_{action}")(**options)
        except DomainError as exc:
            raise CommandError(exc.message) from None
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from None

    def _list(self, **options):
        self.stdout.write("Signing keys:")
        for key in signing_key_list():
            revoked = f" revoked {_when(key.revoked_at)}: {key.revoked_reason}" if key.revoked_at else ""
            self.stdout.write(
                f"  {key.key_id}  {key.status:<8} {key.name}  (added {_when(key.created_at)}, "
                f"activated {_when(key.activated_at)}, retired {_when(key.retired_at)}){revoked}"
            )
        trusted = list(upstream_key_list(include_untrusted=True))
        if trusted:
            self.stdout.write("Trusted upstream keys:")
        for key in trusted:
            state = f"untrusted {_when(key.revoked_at)}" if key.revoked_at else "trusted"
            self.stdout.write(f"  {key.key_id}  {state:<8} {key.name}  (added {_when(key.added_at)})")

    def _add(self, *, generate, private_key_file, name, activate, **options):
        pem = None if generate else _read(private_key_file, "private key file")
        key = signing_key_add(name=name, private_key=pem, generate=generate, activate=activate)
        self.stdout.write(f"added {key.key_id} ({key.name}), {key.status}")

    def _activate(self, *, key_id, **options):
        key = signing_key_activate(key_id=key_id)
        self.stdout.write(f"activated {key.key_id} ({key.name}): it signs new approvals")

    def _retire(self, *, key_id, **options):
        key = signing_key_retire(key_id=key_id)
        self.stdout.write(f"retired {key.key_id} ({key.name}): it still verifies what it signed")

    def _revoke(self, *, key_id, reason, **options):
        key = signing_key_revoke(key_id=key_id, reason=reason)
        self.stdout.write(f"revoked {key.key_id} ({key.name}): its signatures no longer verify")

    def _trust(self, *, public_key_file, name, **options):
        key = upstream_key_trust(public_key=_read(public_key_file, "public key file"), name=name)
        self.stdout.write(f"trusted {key.key_id} ({key.name}) for signatures made upstream")

    def _untrust(self, *, key_id, **options):
        key = upstream_key_untrust(key_id=key_id)
        self.stdout.write(f"untrusted {key.key_id} ({key.name})")
