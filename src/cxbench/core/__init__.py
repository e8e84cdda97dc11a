"""Core of cxbench: the data contract, sources, validation, the metric registry, the engine and statistics.

Nothing in this package imports the CLI, the report or the server.
"""
