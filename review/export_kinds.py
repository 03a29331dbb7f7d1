"""Export kinds of the review app, found by exports.registry.autodiscover()."""

from .exporting import register_kinds

register_kinds()
