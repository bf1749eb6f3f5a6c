from registry.artifacts.models import Blob, VersionFile
from registry.cards.models import ModelCard
from registry.validation.models import ValidationOutcome, ValidationReport
from registry.versions.models import AssetVersion, VersionStatus

__all__ = ["AssetVersion", "Blob", "ModelCard", "ValidationOutcome", "ValidationReport", "VersionFile", "VersionStatus"]
