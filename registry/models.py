from registry.artifacts.models import Blob, VersionFile
from registry.cards.models import ModelCard
from registry.governance.models import Alias, Review, ReviewPolicy, ReviewRound, VersionSignature
from registry.validation.models import ValidationOutcome, ValidationReport
from registry.versions.models import AssetVersion, VersionStatus

__all__ = ["Alias", "AssetVersion", "Blob", "ModelCard", "Review", "ReviewPolicy", "ReviewRound", "ValidationOutcome",
           "ValidationReport", "VersionFile", "VersionSignature", "VersionStatus"]
