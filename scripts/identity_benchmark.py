"""Identity benchmark on public person-linkage data: see demo/cdp_demo/linkbench and docs/identity.md.

uv sync --group bench
.venv/bin/python scripts/identity_benchmark.py --out results.json
"""

import sys

from cdp_demo.linkbench.main import main

if __name__ == "__main__":
    sys.exit(main())
