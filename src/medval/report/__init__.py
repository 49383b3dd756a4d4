"""Reports: a benchmark's evidence, as the server released it to the reader (leaderboard
with ranks, each model's sites, subgroups, shift between sites), written as one
self-contained HTML page with the same figures as JSON and CSV, and where each came from.

Pure rendering: imports core, the look (its style sheet, inlined), jinja2 and the standard
library; never the server, the client or a face. ``client.report`` gathers the evidence.
"""
