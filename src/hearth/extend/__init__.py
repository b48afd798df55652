"""Hearth as a library and its extension points: `hearth.App`, hooks, custom routes, the hooks
folder. Everything users touch is re-exported from `hearth` itself (see hearth/__init__.py)."""
