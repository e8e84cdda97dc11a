"""cxbench: customer-engagement, customer-experience and customer-success KPIs from raw customer data.

    >>> import cxbench
    >>> card = cxbench.compute("data/", period="month", segment="plan")
    >>> card.to_pandas()
"""

__version__ = "0.1.0"

from typing import TYPE_CHECKING, Any

from cxbench.core.errors import CxbenchError, InputError, UsageError  # noqa: E402

if TYPE_CHECKING:
    from cxbench.analyses.drivers import KeyDrivers
    from cxbench.analyses.funnel import Funnel
    from cxbench.analyses.paths import TopPaths
    from cxbench.analyses.themes import CommentThemes
    from cxbench.api import Scorecard, check, comment_themes, compute, funnel, key_drivers, predict_clv, top_paths
    from cxbench.lifetime_value import ClvForecast
    from cxbench.models import ModelFitError

# The API is imported on first use: `import cxbench` (and `cxbench --help`) need not load Ibis and SciPy.
_LAZY = {"Scorecard": "cxbench.api", "check": "cxbench.api", "compute": "cxbench.api",
         "predict_clv": "cxbench.api", "ClvForecast": "cxbench.lifetime_value", "ModelFitError": "cxbench.models",
         "comment_themes": "cxbench.api", "CommentThemes": "cxbench.analyses.themes",
         "key_drivers": "cxbench.api", "KeyDrivers": "cxbench.analyses.drivers",
         "funnel": "cxbench.api", "top_paths": "cxbench.api", "Funnel": "cxbench.analyses.funnel",
         "TopPaths": "cxbench.analyses.paths"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'cxbench' has no attribute {name!r}")


__all__ = ["ClvForecast", "CommentThemes", "CxbenchError", "Funnel", "InputError", "KeyDrivers", "ModelFitError",
           "Scorecard", "TopPaths", "UsageError", "__version__", "check", "comment_themes", "compute", "funnel",
           "key_drivers", "predict_clv", "top_paths"]
