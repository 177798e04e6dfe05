"""openpyxl's side of the xlsx figure: a read-only load of the file, every row's values read.
Prints one JSON line: data rows (the title row left out), seconds, version."""
import json
import sys
import time

import openpyxl

started = time.perf_counter()
book = openpyxl.load_workbook(sys.argv[1], read_only=True, data_only=True)
rows = sum(1 for _ in book.active.iter_rows(values_only=True)) - 1
book.close()
seconds = time.perf_counter() - started
print(json.dumps({"rows": rows, "seconds": seconds, "version": openpyxl.__version__}))
