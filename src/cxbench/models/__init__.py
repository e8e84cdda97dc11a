"""Customer-base models on NumPy and SciPy: BG/NBD (purchases) and Gamma-Gamma (spend per purchase).

One model per module; each cites the paper and equation behind every formula.
"""

from cxbench.models.bg_nbd import BetaGeoModel
from cxbench.models.errors import ModelFitError
from cxbench.models.gamma_gamma import GammaGammaModel

__all__ = ["BetaGeoModel", "GammaGammaModel", "ModelFitError"]
