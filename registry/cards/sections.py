"""The sections of a card, per asset kind, and the headings that name them in a README.

Models (and solutions) follow Mitchell et al. (2019), "Model Cards for Model Reporting"; datasets
follow Gebru et al., "Datasheets for Datasets". A section is Markdown text stored under its key; in a
Hugging Face README it is a level-2 heading (`## Intended use`) followed by that text.
"""

import re

from registry.assets.models import AssetKind

MODEL_SECTIONS: dict[str, str] = {
    "model_details": "Model details",
    "intended_use": "Intended use",
    "factors": "Factors",
    "metrics": "Metrics",
    "evaluation_data": "Evaluation data",
    "training_data": "Training data",
    "quantitative_analyses": "Quantitative analyses",
    "ethical_considerations": "Ethical considerations",
    "caveats_and_recommendations": "Caveats and recommendations",
}

DATASHEET_SECTIONS: dict[str, str] = {
    "motivation": "Motivation",
    "composition": "Composition",
    "collection_process": "Collection process",
    "preprocessing": "Preprocessing",
    "uses": "Uses",
    "distribution": "Distribution",
    "maintenance": "Maintenance",
}

ALL_SECTION_KEYS = frozenset(MODEL_SECTIONS) | frozenset(DATASHEET_SECTIONS)

# Other headings people write for the same section (Hugging Face's own templates among them).
# Compared after normalisation (see `normalise_heading`).
_ALIASES: dict[str, tuple[str, ...]] = {
    "model_details": ("model description", "model detail"),
    "intended_use": ("intended uses", "intended uses and limitations", "uses"),
    "evaluation_data": ("evaluation dataset", "evaluation datasets"),
    "training_data": ("training dataset", "training datasets"),
    "quantitative_analyses": ("quantitative analysis", "results", "evaluation results"),
    "ethical_considerations": ("ethical consideration", "ethics"),
    "caveats_and_recommendations": ("caveats", "recommendations", "limitations", "bias risks and limitations"),
    "collection_process": ("data collection", "data collection process", "collection"),
    "preprocessing": (
        "preprocessing cleaning labeling",
        "preprocessing cleaning and labeling",
        "data preprocessing",
        "pre-processing",
    ),
    "uses": ("intended uses", "intended use"),
    "maintenance": ("maintainance",),
}


def sections_for(kind: str) -> dict[str, str]:
    """Section keys and titles of a card for an asset of `kind` (datasets get a datasheet)."""
    return DATASHEET_SECTIONS if kind == AssetKind.DATASET else MODEL_SECTIONS


def normalise_heading(text: str) -> str:
    """'Intended Uses & Limitations:' -> 'intended uses and limitations'."""
    text = text.replace("&", " and ").replace("/", " ").lower()
    text = re.sub(r"[^\w\s-]", " ", text)
    return " ".join(text.split())


def _heading_table(kind: str) -> dict[str, str]:
    sections = sections_for(kind)
    table = {}
    for key, title in sections.items():
        for name in (title, key.replace("_", " "), *_ALIASES.get(key, ())):
            table.setdefault(normalise_heading(name), key)
    return table


_HEADINGS = {kind: _heading_table(kind) for kind in AssetKind.values}


def section_for_heading(kind: str, heading: str) -> str | None:
    """The section key a README heading names for an asset of `kind`, or None (case-insensitive)."""
    return _HEADINGS.get(kind, _HEADINGS[AssetKind.MODEL]).get(normalise_heading(heading))
