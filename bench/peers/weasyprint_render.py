"""WeasyPrint's side of the PDF figure: renders every report-NNN.html in a folder in one warm
process. The first (report-000) warms fonts and styles up and is not timed; the rest are, each a
different document. Prints one JSON line: renders, seconds, pages of the last, version."""
import json
import pathlib
import sys
import time

import weasyprint

folder = pathlib.Path(sys.argv[1])
files = sorted(folder.glob("report-*.html"))
warm, timed = files[0], files[1:]
weasyprint.HTML(filename=str(warm)).write_pdf()
started = time.perf_counter()
pages = 0
for f in timed:
    document = weasyprint.HTML(filename=str(f)).render()
    document.write_pdf()
    pages = len(document.pages)
seconds = time.perf_counter() - started
print(json.dumps({"renders": len(timed), "seconds": seconds, "pages": pages,
                  "version": weasyprint.__version__}))
