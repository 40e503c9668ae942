"""The export stage: the archive for researchers and for readers.

Plain functions, for the CLI and for any script (the demo):

- ``pilotarchive.export.dataset.export_dataset(output, to=None, formats="all")``: the
  dataset folder (CSV, JSONL, SQLite, data package, CITATION.cff);
- ``pilotarchive.export.site.build_site(output, to=None)``: the static site;
- ``pilotarchive.export.serve.make_server(output, port)``: an ``http.server`` on 127.0.0.1;
- the WACZ is ``pilotarchive.archive.wacz.build_wacz(snapshots, file)``.

``temporal`` computes the tables once (``build``); the site and the export can share them
(``dataset=``).
"""
