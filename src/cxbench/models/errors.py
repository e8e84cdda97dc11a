"""Errors of the model fits."""

from __future__ import annotations

from cxbench.core.errors import CxbenchError


class ModelFitError(CxbenchError):
    """A model that cannot be fitted to the data given; the message says why and what to do."""
