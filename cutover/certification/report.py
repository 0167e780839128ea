"""The readiness report: `readiness.json`, `readiness.html` (offline) and the evidence bundle
(journals of the mocks as JSON lines, the suite's version, a manifest of SHA-256 digests)."""

from __future__ import annotations

import gzip
import hashlib
import json
import platform
import shutil
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from refdata.units import registry

from .catalogue import CHECKS
from .checks import requirements
from .failures import group_failures, readable
from .readiness import readiness
from .registry import Cell
from .results import Outcome, Results
from .timeline import PHASE_OF_CHECK, PHASES, TimelineBuilder

TEMPLATES = Path(__file__).parent / "templates"
EXPORT_PAGE = 1000
"""Journal entries read per request while exporting: an axis entry can hold 19 KB of edXML, and a
page is held several times over (rows, JSON, parsed), so a page of 5,000 alone was a shard's peak."""


def suite_version() -> dict[str, Any]:
    try:
        version = metadata.version("cutover")
    except metadata.PackageNotFoundError:
        version = "unknown"
    return {"cutover": version, "python": sys.version.split()[0], "platform": platform.platform(),
            "vietnam_provinces": _version("vietnam-provinces"), "generated_at": datetime.now(UTC).isoformat()}


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "unknown"


def build_readiness(outcomes: list[Outcome], *, sut: str, selection: dict[str, Any], plan: list[Cell] | None = None,
                    setup_error: str | None = None, run_errors: list[str] | None = None) -> dict[str, Any]:
    data = readiness(outcomes, plan, setup_error=setup_error, run_errors=run_errors)
    return {"suite": suite_version(), "sut": sut, "selection": selection,
            "checks": {c.id: {"title": c.title} for c in CHECKS.values()},
            "requirement_titles": {r.id: {"title": r.title, "scope": r.scope} for r in requirements().values()}, **data}


def _script_json(value: Any) -> str:
    """JSON safe inside a <script> element (no "</" to end it early)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")


def _why(message: str | None) -> list[str]:
    """A check's message as the timeline shows it: its text, and any JSON answer pretty-printed (not escaped)."""
    if not message:
        return ["", ""]
    found = readable(message)
    return [found["text"], found["json"]]


def render_html(data: dict[str, Any], timelines: dict[str, list[list[Any]]] | None = None) -> str:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
    by_province: dict[str, list[tuple[str, Any]]] = {}
    for code, c in data["communes"].items():
        by_province.setdefault(c["province"], []).append((code, c))
    communes = {code: {"name": c["name"], "status": c["status"],
                       "checks": {k: [v["status"], *_why(v["message"])] for k, v in c["checks"].items()}}
                for code, c in data["communes"].items()}
    return env.get_template("readiness.html").render(
        data=data, checks=CHECKS, by_province=by_province, provinces=registry().provinces(),
        groups=group_failures(data), commune_json=_script_json(communes), timeline_json=_script_json(timelines or {}),
        phases_json=_script_json(PHASES), phase_of_check_json=_script_json(PHASE_OF_CHECK))


def belongs_to_run(entry: dict[str, Any], provinces: set[str]) -> bool:
    """An exchange of the certified provinces: not another province's tenant, nor another province's
    commune (shared mocks serve every province; their citizens are not this run's evidence)."""
    reg = registry()
    tenant = entry.get("tenant")
    if tenant in {p.code for p in reg.provinces()} and tenant not in provinces:
        return False
    commune = entry.get("commune")
    if commune:
        try:
            return reg.unit(str(commune)).province_code in provinces
        except (KeyError, ValueError):
            return True
    return True


def export_journals(cert: Any, evidence: Path,
                    on_entry: Callable[[dict[str, Any]], None] | None = None) -> dict[str, dict[str, Any]]:
    """Write each service's journal of this run into the evidence bundle: the entries after the run's
    mark, of the certified provinces only; `evidence/filter.json` says what was left out, and is
    returned. Streamed a page at a time (a sweep's journals do not fit in memory): `on_entry` sees
    each kept entry as it is written."""
    admins = dict(cert.admins)
    if getattr(cert, "stack", None) is not None and "provincial" in cert.stack.apps:
        admins["provincial"] = cert.stack.admin("provincial")
    evidence.mkdir(parents=True, exist_ok=True)
    provinces = set(cert.provinces)
    filtered: dict[str, Any] = {}
    for name, admin in admins.items():
        mark = getattr(cert, "marks", {}).get(name, 0)
        seen = kept = notes = 0
        # gzip's own default level (6): level 9, Python's, cost several times the CPU for a few % less.
        with gzip.open(evidence / f"journal-{name}.jsonl.gz", "wt", encoding="utf-8", compresslevel=6) as fh:
            try:
                for page in admin.journal_pages(after_id=mark, page_size=EXPORT_PAGE):
                    for entry in page:
                        seen += 1
                        if "id" not in entry or belongs_to_run(entry, provinces):
                            kept += 1
                            fh.write(json.dumps(entry, ensure_ascii=False, default=str) + "\n")
                            if on_entry is not None and "id" in entry:
                                on_entry(entry)
                    del page
            except Exception as err:  # noqa: BLE001 - a mock that is gone still leaves a note in the bundle
                fh.write(json.dumps({"error": f"journal not available: {err}"}, ensure_ascii=False) + "\n")
                notes = 1
        filtered[name] = {"entries_before_the_run": f"ids up to {mark} left out", "kept": kept + notes,
                          "left_out_other_provinces": seen - kept}
    (evidence / "filter.json").write_text(json.dumps({"provinces": sorted(provinces), "journals": filtered},
                                                     indent=1), encoding="utf-8")
    return filtered


def codes_by_commune(cert: Any) -> dict[str, set[str]]:
    """Each selected commune's dossier codes and payment references, from the journeys and the outcomes."""
    codes: dict[str, set[str]] = {u.code: set() for u in cert.units}
    for key, journeys in cert.cache.items():
        if not key.startswith("journeys:"):
            continue
        for j in journeys.values():
            codes[j.unit.code] |= {c for c in (j.portal_code, j.sut_code, (j.payment or {}).get("reference")) if c}
            codes[j.unit.code] |= {f"{role}:{j.unit.code}:0" for role in ("citizen", "officer")}  # its logins
    for o in cert.results.all():
        if o.commune in codes:
            codes[o.commune] |= {str(o.evidence[k]) for k in ("code", "portal_code", "reference")
                                 if o.evidence.get(k)}
    return codes


def read_timelines(out: Path) -> dict[str, list[list[Any]]]:
    path = out / "timelines.json"
    if not path.exists():
        return {}
    data: dict[str, list[list[Any]]] = json.loads(path.read_text(encoding="utf-8"))
    return data


def write_manifest(out: Path) -> Path:
    files = {}
    for path in sorted(out.rglob("*")):
        if path.is_file() and path.name != "manifest.json" and "work" not in path.relative_to(out).parts:
            files[str(path.relative_to(out))] = hashlib.sha256(path.read_bytes()).hexdigest()
    manifest = out / "manifest.json"
    doc: dict[str, Any] = {"algorithm": "sha256", "files": files}
    filters = {str(p.relative_to(out)): json.loads(p.read_text(encoding="utf-8"))
               for p in sorted(out.rglob("filter.json")) if "work" not in p.relative_to(out).parts}
    if filters:
        doc["evidence_filtered"] = filters
    manifest.write_text(json.dumps(doc, indent=1), encoding="utf-8")
    return manifest


def write_outputs(out: Path, outcomes: list[Outcome], *, sut: str, selection: dict[str, Any],
                  plan: list[Cell] | None = None, setup_error: str | None = None,
                  run_errors: list[str] | None = None) -> dict[str, Any]:
    data = build_readiness(outcomes, sut=sut, selection=selection, plan=plan, setup_error=setup_error,
                           run_errors=run_errors)
    out.mkdir(parents=True, exist_ok=True)
    (out / "readiness.json").write_text(json.dumps(data, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    (out / "readiness.html").write_text(render_html(data, read_timelines(out)), encoding="utf-8")
    evidence = out / "evidence"
    evidence.mkdir(exist_ok=True)
    (evidence / "version.json").write_text(json.dumps(data["suite"], indent=1), encoding="utf-8")
    return data


def journals_lost(cert: Any) -> list[str]:
    """What the run's judgement cannot stand on: a mock whose journal bound removed entries of this run
    (checks count and compare journal entries; one removed could hide a duplicate or a missing call)."""
    lost = []
    for name, admin in cert.admins.items():
        mark = getattr(cert, "marks", {}).get(name, 0)
        try:
            through = admin.journal_trimmed_through()
        except Exception as err:  # noqa: BLE001 - a mock that is gone cannot vouch for its journal
            lost.append(f"the {name} mock could not say whether its journal kept this run's entries: {err}")
            continue
        if through > mark:
            lost.append(f"the {name} mock's journal removed entries of this run (ids {mark + 1} to {through}) to "
                        f"stay within its bound: checks and evidence may miss them; serve it with "
                        f"CUTOVER_JOURNAL_MAX_ROWS=0 (no limit) or a larger limit, and certify again")
    return lost


def write_report(cert: Any, out: Path, plan: list[Cell] | None = None) -> dict[str, Any]:
    """Everything for one run (called by the pytest plugin at the end of the session)."""
    o = cert.options
    selection = {**o.selection.asked, "defects": o.defects, "units": len(cert.units), "provinces": cert.provinces}
    lost = journals_lost(cert)
    timelines = TimelineBuilder(codes_by_commune(cert))
    export_journals(cert, out / "evidence", on_entry=timelines.add)
    (out / "timelines.json").write_text(json.dumps(timelines.rows(), ensure_ascii=False), encoding="utf-8")
    data = write_outputs(out, cert.results.all(), sut=o.sut, selection=selection, plan=plan, run_errors=lost)
    write_manifest(out)
    return data


def merge_parts(out: Path, parts: list[Path], *, sut: str, selection: dict[str, Any],
                plan: list[Cell], errors: list[str] | None = None) -> dict[str, Any]:
    """Combine the results of parallel runs (one per shard of provinces) into one report; `plan` is
    what the whole run had to judge, so a shard that never ran leaves its cells not judged."""
    outcomes: list[Outcome] = []
    errors = list(errors or [])
    for part in parts:
        if (part / "results.jsonl").exists():
            outcomes += Results.load(part / "results.jsonl")
        if (part / "readiness.json").exists():  # what a part found wrong with the run itself
            errors += json.loads((part / "readiness.json").read_text(encoding="utf-8")).get("errors", [])
    timelines: dict[str, list[list[Any]]] = {}
    for part in parts:
        for commune, rows in read_timelines(part).items():  # evidence references name the merged files
            timelines[commune] = [[*row[:6], f"{part.name}-{row[6]}", *row[7:]] for row in rows]
    out.mkdir(parents=True, exist_ok=True)
    (out / "timelines.json").write_text(json.dumps(timelines, ensure_ascii=False), encoding="utf-8")
    data = write_outputs(out, outcomes, sut=sut, selection=selection, plan=plan, run_errors=errors)
    for part in parts:
        for journal in (part / "evidence").glob("journal-*.jsonl.gz"):
            target = out / "evidence" / f"{part.name}-{journal.name}"
            shutil.copyfile(journal, target)
    write_manifest(out)
    return data
