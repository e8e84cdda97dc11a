"""Why it moved: analyses that explain the scorecard's numbers (issue 18), one module per analysis.

Import from the modules themselves (`cxbench.analyses.themes`...); this package holds no code of its own. The
analyses are core-level: they read the engine through `cxbench.core` and never import the CLI, the renderers or
the report. docs/analyses.md describes each.
"""
