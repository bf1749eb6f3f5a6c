from django.core.management.base import BaseCommand

from registry.search.index import search_rebuild
from registry.versions.release import release_status_rebuild


class Command(BaseCommand):
    help = (
        "Recompute what search derives from the catalogue: every asset's release status (from its versions), "
        "then the search backend's own data (facet counts, the typo and substring vocabulary). For after a bulk "
        "load or a restore; the services keep all of it in step otherwise."
    )

    def handle(self, *args, **options):
        release_status_rebuild()
        search_rebuild()
        self.stdout.write("Release statuses, facet counts and the search vocabulary are rebuilt.")
