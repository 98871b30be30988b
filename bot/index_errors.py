"""Every way the index can fail surfaces as ``IndexUnavailable``, with a message that says what to do.

Its own module so that the corpus scan and the ``CorpusIndex`` facade raise the same classes without
importing each other.
"""

from __future__ import annotations


class IndexUnavailable(RuntimeError):
    """The index cannot be used or built; the message says why and what to do."""


class ReindexBusy(IndexUnavailable):
    """Another process is reindexing the same ``index/`` folder."""
