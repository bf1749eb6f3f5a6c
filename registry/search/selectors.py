"""Searching the catalogue: the one read behind the API's asset list and the portal's catalogue page."""

from registry.assets.selectors import asset_list
from registry.kernel.access import asset_scope
from registry.search.backends import search_backend
from registry.search.page import SearchPage
from registry.search.query import parse_search


def asset_search(*, user, params, as_rows: bool = False) -> SearchPage:
    """Search the catalogue as `user`: the one entry point of the API list and the portal's catalogue page.

    `params` is the query string (a QueryDict, or a dict of str -> str): `q` (words; each must match name,
    tags, summary or description, as a prefix; too few matches widen each word to the vocabulary words
    most like it or containing it, so `frud` and `raud` find fraud), `kind`, `tag` (repeat: all of them),
    `task`, `license`, `framework` (case-insensitive), `status` (release status), `team` (slug),
    `visibility`, `ordering` (`relevance`, default with `q`; `-updated`, default without; `name`, `-name`,
    `created`, `-created`, `updated`, `-used`), `page_size` (1-100, default 20) and either `cursor` (from a
    previous page) or `page` (numbered pages, at most 10,000 results deep). Anything else is the caller's
    to refuse; a bad value raises InvalidInput (a 400 in the API).

    Returns a SearchPage: `assets` (the page, in order, Asset instances with `team` and `created_by`
    loaded and `description` deferred; with `as_rows`, dicts of LISTED_FIELDS instead), `count` (every
    visible match, exact), `facets` ({"kind", "tag", "task", "license", "status", "team"} -> up to 50
    [{"value", "count"}], most frequent first, each facet counted without its own filter so a choice can
    be widened), `highlights` ({asset pk: {"name", "summary"}}: HTML with `<mark>` around matched words,
    everything else escaped; empty without `q`), `next_cursor` / `previous_cursor` (None at either end),
    `page`, `page_size` and `widened` ({word: [words it also matched]}). Only what `user` may see is ever
    counted or returned.
    """
    query = parse_search(params)
    scope = asset_scope(user)
    backend = search_backend()
    result = backend.search(scope=scope, query=query)
    if as_rows:
        found = backend.listed(scope=scope, ids=result.ids)
    else:
        found = {asset.pk: asset for asset in asset_list(user=user).filter(pk__in=result.ids).defer("description")}
    return SearchPage(
        assets=[found[pk] for pk in result.ids if pk in found],
        count=result.count,
        facets=result.facets,
        highlights=result.highlights,
        next_cursor=result.next_cursor,
        previous_cursor=result.previous_cursor,
        page=query.page,
        page_size=query.page_size,
        widened=result.widened,
    )
