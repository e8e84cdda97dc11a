"""cxbench: customer-engagement, customer-experience and customer-success KPIs from raw customer data.

    >>> import cxbench
    >>> card = cxbench.compute("data/", period="month", segment="plan")
    >>> card.to_pandas()
"""

__version__ = "0.1.0"

from cxbench.api import Scorecard, check, compute  # noqa: E402
from cxbench.core.errors import CxbenchError, InputError, UsageError  # noqa: E402

__all__ = ["CxbenchError", "InputError", "Scorecard", "UsageError", "__version__", "check", "compute"]
