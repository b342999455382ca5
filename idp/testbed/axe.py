"""axe-core accessibility checks of our pages in a real Chromium page.

axe-core is a JavaScript engine, published on the npm registry. Our CI machines may have no
Node.js, so the pinned release's tarball is fetched with Python straight from the registry,
verified against the registry's ``sha512`` integrity value written below (a changed or
corrupted tarball is refused, never run), and cached under ``.cache/axe/`` (gitignored).
``scripts/setup.sh`` fetches it once; later runs only re-verify the cached file.

Content-Security-Policy: every page of the proxy forbids inline scripts (``idp/headers.py``),
so ``page.add_script_tag(content=...)`` is refused by Chromium on a normal page. Production
headers stay as they are: the pages checked by axe are opened in a browser context created
with Playwright's ``bypass_csp=True`` (``idp.testbed.chromium.new_context``), a switch of the
test browser alone. Tests that walk a login without axe keep the CSP enforced, and assert
that Chromium refused nothing, so bypassing it for axe hides no difference in what the
usager sees.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import sys
import tarfile
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import requests

if TYPE_CHECKING:  # playwright is a test dependency
    from playwright.sync_api import Page

ROOT = Path(__file__).resolve().parents[2]

#: Pinned axe-core release and the npm registry's ``dist.integrity`` for its tarball.
AXE_VERSION = "4.14.1"
AXE_INTEGRITY = (
    "sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ=="
)
AXE_TARBALL_URL = f"https://registry.npmjs.org/axe-core/-/axe-core-{AXE_VERSION}.tgz"
AXE_CACHE = ROOT / ".cache" / "axe"

#: WCAG 2.0 and 2.1, levels A and AA: the level French and New Caledonian public services owe.
WCAG_21_AA = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")

#: Impacts that fail a check; "minor" and "moderate" are reported, not failed.
BLOCKING_IMPACTS = ("serious", "critical")


class AxeIntegrityError(RuntimeError):
    """The axe-core tarball does not match the pinned integrity value."""


def _integrity_ok(data: bytes) -> bool:
    algorithm, _, expected = AXE_INTEGRITY.partition("-")
    digest = base64.b64encode(hashlib.new(algorithm, data).digest()).decode()
    return digest == expected


def axe_tarball(cache: Path = AXE_CACHE) -> Path:
    """The verified tarball, downloaded only when the cached copy is absent or does not match."""
    tarball = cache / f"axe-core-{AXE_VERSION}.tgz"
    if tarball.is_file() and _integrity_ok(tarball.read_bytes()):
        return tarball
    resp = requests.get(AXE_TARBALL_URL, timeout=60)
    resp.raise_for_status()
    if not _integrity_ok(resp.content):
        raise AxeIntegrityError(
            f"{AXE_TARBALL_URL} does not match the pinned integrity {AXE_INTEGRITY}: refused")
    cache.mkdir(parents=True, exist_ok=True)
    partial = tarball.with_suffix(".part")
    partial.write_bytes(resp.content)
    partial.replace(tarball)  # atomic: a concurrent run never reads half a file
    return tarball


@lru_cache(maxsize=1)
def axe_source() -> str:
    """``axe.min.js`` of the pinned release, read from the verified tarball."""
    data = axe_tarball().read_bytes()
    if not _integrity_ok(data):  # re-checked: the file could change between the two reads
        raise AxeIntegrityError(f"cached axe-core tarball changed under {AXE_CACHE}")
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        member = tar.extractfile("package/axe.min.js")
        assert member is not None, "axe-core tarball without package/axe.min.js"
        return member.read().decode("utf-8")


@dataclass(frozen=True)
class Finding:
    """One rule that failed (a violation) or that axe could not decide (to review by hand)."""

    rule: str
    impact: str
    help: str
    help_url: str
    targets: list[str]
    reasons: list[str]

    def line(self) -> str:
        why = f" [{'; '.join(self.reasons)}]" if self.reasons else ""
        return f"- {self.rule} ({self.impact}): {self.help} -> {', '.join(self.targets)}{why}"


@dataclass
class AxeReport:
    """What axe found on one page: violations and undecided rules in detail, others by id."""

    url: str
    engine: str
    tags: list[str]
    violations: list[Finding] = field(default_factory=list)
    incomplete: list[Finding] = field(default_factory=list)
    passes: list[str] = field(default_factory=list)
    inapplicable: list[str] = field(default_factory=list)

    @property
    def rules_checked(self) -> int:
        return (len(self.violations) + len(self.incomplete) + len(self.passes)
                + len(self.inapplicable))

    def by_impact(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for v in self.violations:
            counts[v.impact] = counts.get(v.impact, 0) + 1
        return counts

    def blocking(self) -> list[Finding]:
        return [v for v in self.violations if v.impact in BLOCKING_IMPACTS]

    def summary(self) -> str:
        impacts = ", ".join(f"{k}: {n}" for k, n in sorted(self.by_impact().items())) or "none"
        review = "".join(f"\n  to review: {f.line()[2:]}" for f in self.incomplete)
        return (f"axe {self.engine} on {self.url}: {self.rules_checked} rules checked "
                f"({len(self.passes)} passed, {len(self.inapplicable)} inapplicable, "
                f"{len(self.incomplete)} to review by hand); violations by impact: {impacts}"
                f"{review}")

    def save(self, path: Path) -> Path:
        """Keep the report as a test artefact (JSON), next to the screenshots."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({**asdict(self), "summary": self.summary()},
                                   ensure_ascii=False, indent=2), encoding="utf-8")
        return path


_RUN = """async (tags) => {
  const r = await axe.run(document, {runOnly: {type: "tag", values: tags},
                                     resultTypes: ["violations", "incomplete"]});
  const reasons = (node) => [...node.any, ...node.all, ...node.none].map((c) => c.message);
  const detail = (list) => list.map((v) => ({
    rule: v.id, impact: v.impact || "unknown", help: v.help, help_url: v.helpUrl,
    targets: v.nodes.map((n) => n.target.join(" ")),
    reasons: [...new Set(v.nodes.flatMap(reasons))],
  }));
  return {
    engine: r.testEngine.version,
    violations: detail(r.violations), incomplete: detail(r.incomplete),
    passes: r.passes.map((rule) => rule.id), inapplicable: r.inapplicable.map((rule) => rule.id),
  };
}"""


def inject_axe(page: Page) -> None:
    """Add axe.min.js to the page; its browser context must have been made with bypass_csp."""
    page.add_script_tag(content=axe_source())
    if not page.evaluate("() => typeof window.axe === 'object'"):
        raise RuntimeError("axe-core did not load: the page's CSP refused it; open the page in "
                           "a context made with new_context(browser, bypass_csp=True)")


def run_axe(page: Page, tags: tuple[str, ...] = WCAG_21_AA) -> AxeReport:
    """Run axe on the page as it is now, limited to the rules tagged with ``tags``."""
    inject_axe(page)
    raw = page.evaluate(_RUN, list(tags))
    return AxeReport(url=page.url, engine=raw["engine"], tags=list(tags),
                     violations=[Finding(**v) for v in raw["violations"]],
                     incomplete=[Finding(**v) for v in raw["incomplete"]],
                     passes=raw["passes"], inapplicable=raw["inapplicable"])


def assert_no_serious_violation(report: AxeReport) -> None:
    """Fail with every serious or critical violation: rule, impact, help, target selectors."""
    blocking = report.blocking()
    if blocking:
        lines = "\n".join(v.line() for v in blocking)
        raise AssertionError(f"{len(blocking)} serious/critical accessibility violation(s) "
                             f"on {report.url} (WCAG {'/'.join(report.tags)}):\n{lines}")


def main() -> int:
    """``python -m idp.testbed.axe``: fetch and verify the pinned axe-core (scripts/setup.sh)."""
    print(f"axe-core {AXE_VERSION}: {axe_tarball()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
