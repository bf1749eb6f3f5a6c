from dataclasses import dataclass, field


@dataclass(frozen=True)
class SearchPage:
    """One page of a catalogue search; see `registry.search.selectors.asset_search`."""

    assets: list  # Asset instances in order, `team` and `created_by` loaded (or rows: see asset_search's as_rows)
    count: int  # every match the caller may see, exact
    facets: dict[str, list[dict]]  # {"kind"|"tag"|"task"|"license"|"status"|"team": [{"value", "count"}, ...]}
    highlights: dict[int, dict[str, str]] = field(default_factory=dict)  # asset pk -> {"name", "summary"}: HTML
    next_cursor: str | None = None  # pass as `cursor=` for the page after this one
    previous_cursor: str | None = None  # pass as `cursor=` for the page before (cursor pages only)
    page: int | None = None  # the `page=` number when paged by number
    page_size: int = 20
    widened: dict[str, list[str]] = field(default_factory=dict)  # word -> the words it also matched (typos)
