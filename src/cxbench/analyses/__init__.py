"""The "why it moved" analyses (issue 18): one module per analysis, each computing in the engine up to a table of
modest width and fitting on it (see docs/analyses.md). Import from the modules (`cxbench.analyses.drivers`...)."""
