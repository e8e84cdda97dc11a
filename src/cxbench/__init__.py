"""cxbench: customer-engagement, customer-experience and customer-success KPIs from raw customer data.

    >>> import cxbench
    >>> card = cxbench.compute("data/", period="month", segment="plan")
    >>> card.to_pandas()
"""

__version__ = "0.1.0"

from cxbench.api import Scorecard, check, compute, predict_clv  # noqa: E402
from cxbench.core.errors import CxbenchError, InputError, UsageError  # noqa: E402
from cxbench.lifetime_value import ClvForecast  # noqa: E402
from cxbench.models import ModelFitError  # noqa: E402

__all__ = ["ClvForecast", "CxbenchError", "InputError", "ModelFitError", "Scorecard", "UsageError", "__version__",
           "check", "compute", "predict_clv"]
