"""`modelhub`: the command line of the Python client (marketplace/client/README.md).

Exit codes a CI job can rely on: 0 done; 1 the server refused (its message is printed); 2 a usage error; 3 the
server could not be reached (and nothing usable was cached); 4 bytes that do not match their SHA-256.
"""

from __future__ import annotations

import json
import sys

import click

from marketplace.client.cache import IntegrityError
from marketplace.client.client import BadRef, Client, ModelhubError, Unreachable
from marketplace.client.config import credentials_load, credentials_save

EXIT_REFUSED, EXIT_USAGE, EXIT_UNREACHABLE, EXIT_INTEGRITY = 1, 2, 3, 4


class _Context:
    def __init__(self, url, token, as_json, quiet):
        self.url, self.token, self.as_json, self.quiet = url, token, as_json, quiet

    def client(self) -> Client:
        return Client(self.url, self.token, progress=not self.quiet and sys.stderr.isatty())

    def emit(self, data, text: str) -> None:
        click.echo(json.dumps(data, indent=2, default=str) if self.as_json else text)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--url", envvar="MODELHUB_URL", help="The portal, e.g. https://modelhub.example.com.")
@click.option("--token", envvar="MODELHUB_TOKEN", help="An API token (default: modelhub login's).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output on stdout.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bars.")
@click.pass_context
def cli(ctx, url, token, as_json, quiet):
    """Modelhub from the command line: search, show, pull and push models and datasets; submit, deploy, predict."""
    ctx.obj = _Context(url, token, as_json, quiet)


@cli.command()
@click.option("--token", "new_token", help="The API token (asked for when not given).")
@click.pass_obj
def login(obj: _Context, new_token):
    """Check a token against the server and store it (mode 0600) for the next commands."""
    url = credentials_load(obj.url).url
    new_token = new_token or click.prompt("API token (create one in the portal under Tokens)", hide_input=True)
    with Client(url, new_token) as client:
        teams = client.whoami()
    path = credentials_save(url, new_token)
    names = [t.get("slug") for t in (teams.get("results", teams) if isinstance(teams, dict) else teams)]
    obj.emit({"url": url, "credentials": str(path), "teams": names}, f"Logged in to {url}; token saved in {path}.")


@cli.command()
@click.argument("query", default="")
@click.option("--kind", type=click.Choice(["model", "dataset", "solution"]))
@click.option("--limit", default=20, show_default=True)
@click.pass_obj
def search(obj: _Context, query, kind, limit):
    """Assets matching QUERY, best first."""
    with obj.client() as client:
        found = client.search(query, kind=kind, limit=limit)
    lines = [f"{a.get('full_slug')}\t{a.get('kind')}\t{a.get('summary') or ''}" for a in found]
    obj.emit(found, "\n".join(lines) or "Nothing found.")


@cli.command()
@click.argument("ref")
@click.pass_obj
def show(obj: _Context, ref):
    """An asset (team/asset) or a version (team/asset@1.0.0, team/asset@production)."""
    with obj.client() as client:
        found = client.show(ref)
    if "files" in found:
        files = "\n".join(f"  {f['path']}  {f['size']} bytes  sha256:{f['sha256']}" for f in found["files"])
        text = f"{found['asset']} {found['version']} ({found['status']})\n{files}"
    else:
        text = f"{found.get('full_slug')} ({found.get('kind')}): {found.get('summary') or ''}"
    obj.emit(found, text)


@cli.command()
@click.argument("ref")
@click.option("--to", "to", type=click.Path(file_okay=False), help="Copy the files into this folder as well.")
@click.option("--verify-signature", is_flag=True, help="Check the approval signature offline (exit 4 if it fails).")
@click.pass_obj
def pull(obj: _Context, ref, to, verify_signature):
    """Every file of a version into the shared cache (default revision: @production); prints its folder."""
    with obj.client() as client:
        folder = client.pull(ref, to=to)
        check = client.verify_signature(ref) if verify_signature else None
    if check is not None and not check["valid"]:
        raise IntegrityError(f"the approval signature of {check['version']} does not verify: {check['detail']}")
    obj.emit({"path": str(folder), **({"signature": check} if check else {})}, str(folder))


def _pairs(values, what: str) -> dict:
    pairs = {}
    for value in values:
        key, sep, item = value.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"'{value}' is not key=value.", param_hint=what)
        pairs[key] = item
    return pairs


@cli.command()
@click.argument("ref")
@click.argument("version")
@click.argument("path", type=click.Path(exists=True))
@click.option("--card", type=click.Path(exists=True, dir_okay=False), help="A Hugging Face README.md model card.")
@click.option("--lineage", multiple=True, help="kind=team/asset@version, e.g. trained_on=team/data@1.0.0.")
@click.option("--metadata", multiple=True, help="key=value, stored in the version's metadata.")
@click.option("--create", is_flag=True, help="Create the asset on first push.")
@click.option("--kind", type=click.Choice(["model", "dataset", "solution"]), default="model", show_default=True)
@click.option("--license", "license_", help="SPDX licence of an asset made by --create.")
@click.option(
    "--input-example",
    type=click.Path(exists=True, dir_okay=False),
    help="An .npz of named arrays or a .json of V2 inputs: what validation runs the model on.",
)
@click.option(
    "--resumable/--single-request",
    default=None,
    help="Send each file through a resumable upload session, in parts (default past 256 MiB), or in one request.",
)
@click.option("--no-wait", is_flag=True, help="Do not wait for validation.")
@click.pass_obj
def push(
    obj: _Context,
    ref,
    version,
    path,
    card,
    lineage,
    metadata,
    create,
    kind,
    license_,
    input_example,
    resumable,
    no_wait,
):
    """Upload PATH (a file, or a folder: one .onnx and its external data) as VERSION of REF, and wait for validation."""
    with obj.client() as client:
        pushed = client.push(
            ref,
            version,
            path,
            card=card,
            lineage=list(lineage),
            metadata=_pairs(metadata, "--metadata") or None,
            create=create,
            kind=kind,
            license=license_,
            input_example=input_example,
            resumable=resumable,
            wait=not no_wait,
        )
    obj.emit(pushed, f"{pushed['asset']} {pushed['version']}: {pushed['status']}")


@cli.command()
@click.argument("ref")
@click.option("--note", default="", help="For the reviewers.")
@click.pass_obj
def submit(obj: _Context, ref, note):
    """Submit a validated version (team/asset@1.0.0) for release review."""
    with obj.client() as client:
        opened = client.submit(ref, note=note)
    obj.emit(opened, f"Round {opened.get('number')} opened; it needs {opened.get('approvals_required')} approval(s).")


@cli.command()
@click.argument("ref")
@click.option("--team", help="The consuming team (default: the asset's).")
@click.option("--name", help="The endpoint's name (default: from the asset and version).")
@click.pass_obj
def deploy(obj: _Context, ref, team, name):
    """An endpoint of team/asset@version, or following team/asset@alias (default @production); waits until ready and
    prints its URL and key (the key is shown once)."""
    with obj.client() as client:
        endpoint = client.deploy(ref, team=team, name=name)
    obj.emit(endpoint, f"{endpoint['url']}\nkey: {endpoint['key']}")


@cli.command()
@click.argument("endpoint")
@click.option(
    "--input", "source", required=True, type=click.Path(exists=True, dir_okay=False), help=".npy, .npz or .json"
)
@click.option("--key", envvar="MODELHUB_ENDPOINT_KEY", help="The endpoint's key (default: your API token).")
@click.pass_obj
def predict(obj: _Context, endpoint, source, key):
    """Call ENDPOINT (name or id) with the tensors in --input: an .npz of named arrays, an .npy for the model's one
    input, or a V2 JSON request."""
    with obj.client() as client:
        found = client.endpoint(endpoint)
        outputs = client.predict(found, _inputs(client, found, source), key=key)
    shown = {name: value.tolist() if hasattr(value, "tolist") else value for name, value in outputs.items()}
    obj.emit(shown, json.dumps(shown))


def _inputs(client: Client, endpoint: dict, source: str) -> dict:
    if source.endswith(".json"):
        with open(source) as file:
            return json.load(file)
    import numpy as np

    if source.endswith(".npz"):
        with np.load(source, allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}
    array = np.load(source, allow_pickle=False)
    version = client.show(f"{endpoint['asset']}@{endpoint['version']}")
    names = [t["name"] for t in (version.get("signature") or {}).get("inputs", [])]
    if len(names) != 1:
        raise click.BadParameter(f"the model has inputs {names}: give an .npz with one array per name.")
    return {names[0]: array}


@cli.command()
@click.pass_obj
def endpoints(obj: _Context):
    """Your teams' endpoints."""
    with obj.client() as client:
        found = client.endpoints()
    lines = [f"{e['id']}\t{e['name']}\t{e['status']}\t{e['asset']}@{e['version']}\t{e['url']}" for e in found]
    obj.emit(found, "\n".join(lines) or "No endpoints.")


@cli.command()
@click.argument("endpoint")
@click.pass_obj
def monitoring(obj: _Context, endpoint):
    """An endpoint's health, reference and open alarms."""
    with obj.client() as client:
        series = client.monitoring(endpoint)
    alarms = [
        f"  {a['kind']} since {a['window_start']}: {', '.join(a['features'])}"
        for a in series.get("alarms", [])
        if a.get("status") == "open"
    ]
    reference = (series.get("reference") or {}).get("dataset_version") or (series.get("reference") or {}).get(
        "note", ""
    )
    obj.emit(series, "\n".join([f"health: {series.get('health')}", f"reference: {reference}", *alarms]))


def main(argv=None) -> int:
    try:
        cli.main(args=argv, prog_name="modelhub", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return 1
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except BadRef as exc:
        click.echo(f"modelhub: {exc.message}", err=True)
        return EXIT_USAGE
    except Unreachable as exc:
        click.echo(f"modelhub: {exc.message}", err=True)
        return EXIT_UNREACHABLE
    except ModelhubError as exc:
        click.echo(f"modelhub: {exc.message}", err=True)
        return EXIT_REFUSED
    except IntegrityError as exc:
        click.echo(f"modelhub: {exc}", err=True)
        return EXIT_INTEGRITY
    return 0


if __name__ == "__main__":
    sys.exit(main())
