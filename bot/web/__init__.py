"""The web chat's parts that need no browser: its words, what it renders, its document route and admin actions.

``app.py`` only lays out the Gradio page and wires these in, so each part is tested on its own:
``text`` (the page's words in FR/EN/JA), ``render`` (Markdown shown as text, sources, history),
``routes`` (whole documents, read-only) and ``admin`` (upload and reindex).
"""
