"""Download benchmark sources: cached, retried, checksummed when the caller knows the digest, mirror-aware.

`NEMO_SKILLS_DOWNLOAD_MIRROR=http://host:port` fetches `https://<host>/<path>` from `http://host:port/<host>/<path>`
instead (an internal mirror, or the loopback server the tests use). Hugging Face files use `HF_ENDPOINT` like the
`huggingface_hub` library does, and `HF_TOKEN` when set (gated datasets). Downloads land in
`$NEMO_SKILLS_CACHE/downloads/` (default `~/.cache/nemo_skills`); a cached file is reused only when complete.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from nemo_skills.errors import NemoSkillsError

LOG = logging.getLogger(__name__)

MIRROR_ENV = "NEMO_SKILLS_DOWNLOAD_MIRROR"
DEFAULT_HF_ENDPOINT = "https://huggingface.co"
ATTEMPTS = 3
TIMEOUT_S = 60.0
_CHUNK = 1 << 20


class DownloadError(NemoSkillsError):
    """A source could not be fetched or did not match its checksum."""


def cache_dir() -> Path:
    base = os.environ.get("NEMO_SKILLS_CACHE") or Path.home() / ".cache" / "nemo_skills"
    return Path(base) / "downloads"


def mirrored(url: str) -> str:
    mirror = os.environ.get(MIRROR_ENV)
    if not mirror:
        return url
    parts = urllib.parse.urlsplit(url)
    path = f"{parts.netloc}{parts.path}" + (f"?{parts.query}" if parts.query else "")
    return f"{mirror.rstrip('/')}/{path}"


def hf_dataset_url(repo: str, path: str, revision: str = "main") -> str:
    endpoint = os.environ.get("HF_ENDPOINT", DEFAULT_HF_ENDPOINT).rstrip("/")
    return f"{endpoint}/datasets/{repo}/resolve/{urllib.parse.quote(revision, safe='')}/{urllib.parse.quote(path)}"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _request(url: str) -> urllib.request.Request:
    headers = {"User-Agent": "nemo-skills-prepare-data"}
    token = os.environ.get("HF_TOKEN")
    if token and "/datasets/" in url and "/resolve/" in url:
        headers["Authorization"] = f"Bearer {token}"
    return urllib.request.Request(url, headers=headers)


def _fetch_once(url: str, target: Path) -> None:
    partial = target.with_name(target.name + ".part")
    with urllib.request.urlopen(_request(url), timeout=TIMEOUT_S) as response, partial.open("wb") as handle:
        total = response.headers.get("Content-Length")
        received = 0
        while chunk := response.read(_CHUNK):
            handle.write(chunk)
            received += len(chunk)
    if total is not None and received != int(total):
        raise DownloadError(f"Incomplete download of {url}: {received} of {total} bytes.")
    partial.replace(target)


def _describe(error: BaseException) -> str:
    if isinstance(error, urllib.error.HTTPError):
        hint = " (gated or private: set HF_TOKEN)" if error.code in (401, 403) else ""
        return f"HTTP {error.code} {error.reason}{hint}"
    if isinstance(error, urllib.error.URLError):
        return f"{error.reason}"
    return f"{type(error).__name__}: {error}"


def download(url: str, *, sha256: str | None = None, filename: str | None = None) -> Path:
    """The local path of `url`'s content, downloading it once (3 tries). Raises DownloadError naming the URL."""
    actual_url = mirrored(url)
    name = filename or Path(urllib.parse.urlsplit(url).path).name or "download"
    target = cache_dir() / hashlib.sha256(url.encode()).hexdigest()[:16] / name
    if not target.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        last_error: BaseException | None = None
        for attempt in range(1, ATTEMPTS + 1):
            try:
                LOG.info("downloading %s", actual_url)
                _fetch_once(actual_url, target)
                break
            except urllib.error.HTTPError as error:
                last_error = error
                if error.code in (401, 403, 404):  # retrying will not help
                    break
            except (OSError, DownloadError) as error:
                last_error = error
            if attempt < ATTEMPTS:
                time.sleep(attempt)
        else:
            last_error = last_error or DownloadError("no attempt made")
        if not target.is_file():
            raise DownloadError(
                f"Cannot download {actual_url}: {_describe(last_error)} (after {attempt} "
                f"attempt{'s' if attempt > 1 else ''}). Check the network or proxy, or point {MIRROR_ENV} at a mirror."
            )
    if sha256 is not None:
        actual = sha256_of(target)
        if actual != sha256:
            target.unlink()
            raise DownloadError(f"Checksum mismatch for {url}: expected sha256 {sha256}, got {actual}; removed it.")
    return target
