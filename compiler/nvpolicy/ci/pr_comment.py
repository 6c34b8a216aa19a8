"""Post `nvpolicy diff --out DIR` Markdown parts as PR/MR comments, updating earlier ones in place.

    nvpolicy ci pr-comment github --pr 42 reports/diff   # GITHUB_TOKEN, GITHUB_REPOSITORY
    nvpolicy ci pr-comment gitlab --pr 7 reports/diff    # NVPOLICY_GITLAB_TOKEN, CI_API_V4_URL, CI_PROJECT_ID
    nvpolicy ci pr-comment plan --pr 0 reports/diff      # print what would be posted, no network

DIR holds one folder per environment with the numbered parts (`*.md`, posted in name order). Each
comment starts with a hidden marker `<!-- nvpolicy-diff env=ENV part=N -->`; a rerun edits the
comment with the same marker, deletes parts that no longer exist, and posts only new ones, so a
pull request carries one current set of comments per environment. An environment whose diff
folder holds no part (unchanged) gets no comment, and its earlier comments are removed.
Standard library only.
"""

from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from nvpolicy.errors import NvPolicyError
from nvpolicy.source import read_text

MARKER = re.compile(r"<!-- nvpolicy-diff env=(\S+) part=(\d+) -->")


def parts(root: Path) -> dict[tuple[str, int], str]:
    """Comment bodies by (env, part number), each starting with its marker."""
    found: dict[tuple[str, int], str] = {}
    for env_dir in sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []:
        for number, part in enumerate(sorted(env_dir.glob("*.md")), start=1):
            text = read_text(part, str(part))  # bounded, regular files only (nvpolicy._fs)
            found[(env_dir.name, number)] = f"<!-- nvpolicy-diff env={env_dir.name} part={number} -->\n{text}"
    return found


def plan(existing: list[tuple[Any, str]], wanted: dict[tuple[str, int], str]) -> list[tuple[str, Any, str]]:
    """(action, comment id or None, body) to go from the existing comments to the wanted ones."""
    actions: list[tuple[str, Any, str]] = []
    seen: set[tuple[str, int]] = set()
    for comment_id, body in existing:
        match = MARKER.search(body)
        if not match:
            continue  # not ours
        key = (match.group(1), int(match.group(2)))
        if key in wanted and key not in seen:
            seen.add(key)
            if body != wanted[key]:
                actions.append(("update", comment_id, wanted[key]))
        else:
            actions.append(("delete", comment_id, ""))
    actions.extend(("create", None, wanted[key]) for key in sorted(wanted) if key not in seen)
    return actions


class Api:
    def __init__(self, base: str, headers: dict[str, str]) -> None:
        self.base, self.headers = base, headers

    def call(self, method: str, url: str, body: dict[str, str] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(url if url.startswith("http") else self.base + url, data=data,
                                         method=method, headers={**self.headers, "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read().decode()
        return json.loads(text) if text.strip() else None

    def pages(self, url: str) -> list[Any]:
        items: list[Any] = []
        for page in range(1, 100):
            batch = self.call("GET", f"{url}{'&' if '?' in url else '?'}per_page=100&page={page}")
            items.extend(batch)
            if len(batch) < 100:
                break
        return items


def github(pr: str) -> tuple[Api, str, str]:
    api = Api(os.environ.get("GITHUB_API_URL", "https://api.github.com"),
              {"Authorization": f"Bearer {os.environ['GITHUB_TOKEN']}", "Accept": "application/vnd.github+json"})
    repo = os.environ["GITHUB_REPOSITORY"]
    return api, f"/repos/{repo}/issues/{pr}/comments", f"/repos/{repo}/issues/comments/"


def gitlab(pr: str) -> tuple[Api, str, str]:
    api = Api(os.environ["CI_API_V4_URL"], {"PRIVATE-TOKEN": os.environ["NVPOLICY_GITLAB_TOKEN"]})
    notes = f"/projects/{os.environ['CI_PROJECT_ID']}/merge_requests/{pr}/notes"
    return api, notes, notes + "/"


class CommentError(NvPolicyError):
    """The forge's API refused or could not be reached (exit 1: the comments are not current)."""

    exit_code = 1


FORGES = ("github", "gitlab", "plan")


def post(forge: str, pr: str, directory: Path) -> list[str]:
    """Bring the PR's nvpolicy comments up to date with DIR; the actions taken, one line each.

    ``plan`` only says what would be posted, without network.
    """
    wanted = parts(directory)
    if forge == "plan":
        return [f"{action}: {body.splitlines()[0]}" for action, _, body in plan([], wanted)]
    if forge not in FORGES:
        raise NvPolicyError(f"forge {forge!r} is not one of: {', '.join(FORGES)}")
    done: list[str] = []
    try:
        api, collection, item = (github if forge == "github" else gitlab)(pr)
        existing = [(c["id"], c.get("body") or "") for c in api.pages(collection)]
        for action, comment_id, body in plan(existing, wanted):
            if action == "create":
                api.call("POST", collection, {"body": body})
            elif action == "update":
                api.call("PATCH" if forge == "github" else "PUT", f"{item}{comment_id}", {"body": body})
            else:
                api.call("DELETE", f"{item}{comment_id}")
            done.append(f"{action} {comment_id or ''}".rstrip())
    except KeyError as exc:
        raise NvPolicyError(f"the environment variable {exc} is not set",
                            hint=_SETTINGS[forge]) from None
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode("utf-8", "replace").strip()[:300]
        hint = ("the token cannot write comments here (a fork's pull request gets a read-only GITHUB_TOKEN; "
                "GitLab needs NVPOLICY_GITLAB_TOKEN with api scope)") if exc.code in (401, 403, 404) else None
        raise CommentError(f"{exc.code} {exc.reason} from {exc.url}: {detail}", hint=hint) from None
    except urllib.error.URLError as exc:
        raise CommentError(f"cannot reach the API: {exc.reason}") from None
    return done


_SETTINGS = {
    "github": "GitHub Actions sets GITHUB_TOKEN (pass it as env) and GITHUB_REPOSITORY",
    "gitlab": "set NVPOLICY_GITLAB_TOKEN (api scope); GitLab CI sets CI_API_V4_URL and CI_PROJECT_ID",
}
