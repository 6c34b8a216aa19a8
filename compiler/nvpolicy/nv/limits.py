"""Size limits the controller applies to whole objects."""

from __future__ import annotations

import gzip
import json

# X2: the webhook denies a request whose CRD record is still this large after gzip
# (rest/crdvalidatewebhook.go:471-490; share/cluster/intfs.go:403).
CRD_RECORD_LIMIT = 512 * 1024


def gzip_size(data: object) -> int | None:
    """The gzip size of ``data``'s JSON when the JSON itself reaches the limit, else None (gzip never needs it)."""
    raw = json.dumps(data, separators=(",", ":"), default=str).encode("utf-8")
    if len(raw) < CRD_RECORD_LIMIT:
        return None
    return len(gzip.compress(raw, mtime=0))
