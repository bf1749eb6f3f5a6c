from registry.artifacts.models import Blob, VersionFile
from registry.lineage.models import LineageEdge, LineageKind
from registry.validation.models import ValidationOutcome, ValidationReport
from registry.versions.models import AssetVersion, VersionStatus

__all__ = ["AssetVersion", "Blob", "LineageEdge", "LineageKind", "ValidationOutcome", "ValidationReport",
           "VersionFile", "VersionStatus"]
