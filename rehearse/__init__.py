"""rehearse: rehearse interview answers out loud, offline.

The package is the product; ``rehearse.cli`` is a thin consumer of it.
"""

__version__ = "0.1.0"
