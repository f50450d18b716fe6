"""The terminal app: Textual screens that show a workspace and act on it.

The only package that imports textual. Screens ask the core through `Workspace` in thread
workers (one workspace per worker, as sqlite connections are per thread) and receive the
answers as messages; nothing here talks to sqlite or httpx directly.
"""
