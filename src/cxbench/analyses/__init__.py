"""The "why it moved" analyses (issue 18): each its own module (funnel.py, paths.py, ...), computed in the engine
up to a small per-customer or per-answer table, returning frozen results with `to_dict()`. Import from the modules;
this package holds no code, so that each analysis is added without touching a shared file."""
