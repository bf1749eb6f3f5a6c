from registry.cards.fields import empty_card_fields
from registry.cards.huggingface import card_to_huggingface_readme, huggingface_readme_from_fields
from registry.cards.models import ModelCard
from registry.cards.sections import sections_for
from registry.versions.models import AssetVersion, VersionStatus

FILLED_MIN_CHARS = 20
# Approved (and later deprecated) versions were reviewed with the card they have; it stays so.
FROZEN_STATUSES = frozenset({VersionStatus.APPROVED, VersionStatus.DEPRECATED})


def _filled(text: str) -> bool:
    return sum(1 for char in text if not char.isspace()) >= FILLED_MIN_CHARS


def card_completeness(card: ModelCard | None, kind: str) -> int:
    """How complete a card is, 0..100, for an asset of `kind`.

    The rule: the parts that count are every section of the kind (9 for models and solutions, 7 for
    datasets' datasheets), the free body and the licence. A section or the body counts as filled
    when it has at least FILLED_MIN_CHARS (20) non-whitespace characters, so a placeholder such as
    "TBD" or "[More Information Needed]" does not; the licence counts when it is set. The score is
    filled parts * 100 // all parts, rounded down, so 100 means everything is filled. No card is 0.
    """
    if card is None:
        return 0
    sections = sections_for(kind)
    filled = sum(_filled(card.sections.get(key) or "") for key in sections)
    filled += _filled(card.body) + bool(card.license.strip())
    return filled * 100 // (len(sections) + 2)


def card_get(*, version: AssetVersion) -> ModelCard | None:
    """The card of a version the caller can already see (found through marketplace's `asset_get`)."""
    return ModelCard.objects.filter(version=version).select_related("version__asset", "updated_by").first()


def version_card_completeness(*, version: AssetVersion) -> int:
    """The completeness score (0..100, see `card_completeness`) of a version's card; 0 without one.

    For rules such as governance's submission check; it does not check who is asking.
    """
    return card_completeness(ModelCard.objects.filter(version_id=version.pk).first(), version.asset.kind)


def card_frozen(*, version: AssetVersion) -> bool:
    """True when the version's card can no longer change (approved or deprecated versions)."""
    return version.status in FROZEN_STATUSES


def card_readme(*, version: AssetVersion) -> str:
    """The version's card as a Hugging Face README.md; an empty card's README when none was written."""
    card = card_get(version=version)
    if card is not None:
        return card_to_huggingface_readme(card)
    return huggingface_readme_from_fields(empty_card_fields(), kind=version.asset.kind)
