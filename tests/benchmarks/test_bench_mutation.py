"""The mutation benchmark's own logic, without certifying anything: which mutants it leaves out or
records as incompetent, how it samples, and how it computes the score."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

pytest.importorskip("cosmic_ray")

from benchmarks import bench_mutation as bench  # noqa: E402

MODULE = '''from __future__ import annotations


def merge(a: dict[str, int] | None, *, extra: int = 1) -> dict[str, int] | None:
    if a is None:
        return None
    return {**a, "n": a.get("n", 0) + extra}


def recall(code: str) -> bool:
    return code == "13"
'''


def generate(root: Path, name: str, text: str) -> list:
    """cosmic-ray's mutants of one module `pkg/<name>` written under `root` (the working directory kept)."""
    (root / "pkg").mkdir()
    (root / "pkg" / name).write_text(text, encoding="utf-8")
    settings = bench.Settings(modules=[f"pkg/{name}"], timeout=10, certify=[], equivalents=root / "eq.txt",
                              probe_defect="ignore_nonce", cosmic_ray={})
    cwd = Path.cwd()
    try:
        return bench.generate(root, settings, root / "s.sqlite")
    finally:
        os.chdir(cwd)


@pytest.fixture
def mutants(tmp_path: Path) -> tuple[Path, list]:
    return tmp_path, generate(tmp_path, "m.py", MODULE)


def mutated_text(item) -> str:
    spec = item.mutations[0]
    return f"{spec.operator_name}@{spec.start_pos[0]}"


def test_annotation_mutants_are_recognised(mutants):
    root, items = mutants
    spans = {"pkg/m.py": bench.annotation_spans(root / "pkg" / "m.py")}
    in_ann = [i for i in items if bench.in_annotation(i, spans)]
    assert in_ann, "the `X | None` annotations give cosmic-ray BitOr mutants"
    assert all(i.mutations[0].start_pos[0] == 4 for i in in_ann)
    # the `+ extra` in the body (line 7) is a real mutant
    assert any(i.mutations[0].start_pos[0] == 7 and "Add" in i.mutations[0].operator_name
               for i in items if not bench.in_annotation(i, spans))


def test_mutants_that_are_not_python_are_incompetent_and_real_ones_are_not(mutants):
    root, items = mutants
    invalid = bench.stillborn(root, items)
    lines = {i.mutations[0].start_pos[0] for i in items if i.job_id in invalid}
    assert lines & {4, 7}, "`*, extra` and `{**a}` are taken for operators"
    assert all(r.test_outcome == "incompetent" and "not a valid mutant" in r.output for r in invalid.values())
    recall_is = [i for i in items if i.mutations[0].start_pos[0] == 11 and i.mutations[0].operator_name.endswith("_Is")]
    assert recall_is and not any(i.job_id in invalid for i in recall_is)


def test_the_sample_is_deterministic_and_a_subset(mutants):
    _, items = mutants
    first = [bench.key_of(i) for i in bench.choose(items, 5, seed=3)]
    assert first == [bench.key_of(i) for i in bench.choose(list(reversed(items)), 5, seed=3)]
    assert len(first) == 5 and set(first) <= {bench.key_of(i) for i in items}
    assert len(bench.choose(items, None, seed=0)) == len(items)


def mutant(outcome: str, line: int, **detail) -> bench.Mutant:
    return bench.Mutant("j", "provincial/x.py", line, "core/NumberReplacer", 0, None, outcome, detail)


def test_score_leaves_out_equivalent_and_incompetent_and_flags_wrong_entries(tmp_path):
    (tmp_path / "eq.txt").write_text("# comment\n"
                                     "provincial/x.py:2 core/NumberReplacer#0  a survivor that changes nothing\n"
                                     "provincial/x.py:3 core/NumberReplacer#0  said equivalent, but killed\n"
                                     "provincial/x.py:99 core/NumberReplacer#0  no longer generated\n", encoding="utf-8")
    mutants = [mutant("killed", 1, exit=1, failed=["PAY-1"]), mutant("survived", 2), mutant("killed", 3, exit=3),
               mutant("timed out", 4), mutant("incompetent", 5), mutant("survived", 6)]
    generated = {m.key for m in mutants}
    s = bench.summarize(mutants, bench.read_equivalents(tmp_path / "eq.txt"), generated, 0, len(mutants))
    assert (s["killed"], s["survived"], s["timed out"], s["incompetent"], s["equivalent"]) == (2, 2, 1, 1, 1)
    assert s["score"] == pytest.approx(2 / (6 - 1 - 1))
    assert s["score_with_timeouts_killed"] == pytest.approx(3 / 4)
    assert s["killed_by"] == {"by a check": 1, "could not certify": 1}
    assert s["equivalents_killed"] == ["provincial/x.py:3 core/NumberReplacer#0"]
    assert s["equivalents_stale"] == ["provincial/x.py:99 core/NumberReplacer#0"]
    assert mutants[1].classification.startswith("equivalent: a survivor")


def test_a_run_is_described_by_its_readiness_file(tmp_path):
    (tmp_path / "readiness.json").write_text(json.dumps({
        "verdict": {"line": "NOT READY: 1 failed"}, "errors": [],
        "requirements": {"PAY-1": {"status": "failed"}, "SSO-1": {"status": "passed"}}}), encoding="utf-8")
    assert bench.describe_run(1, tmp_path, "") == {"exit": 1, "verdict": "NOT READY: 1 failed", "failed": ["PAY-1"]}
    assert bench.describe_run(3, tmp_path / "none", "a\nb\ncould not certify")["tail"][-1] == "could not certify"


SWITCHED = '''from __future__ import annotations


class Service:
    def pay(self, amount: int, fee: int) -> str:
        if "skip_check" in self.defects:
            return "paid"
        if amount != fee and "amount_unchecked" not in self.defects:
            return "refused"
        owner = "province" if "wrong_account" in self.defects else "commune"
        late = amount > 10 and "late_switch" in self.defects
        if amount and "late_switch" in self.defects:
            owner = helper(owner)
        return owner if late else owner.upper()

    def sync(self, n: int) -> int:
        if "no_retry" not in self.defects:
            return n + 1
        return n - 1


def helper(owner: str) -> str:
    return owner + "!"
'''


def test_defect_only_mutants_are_those_that_run_only_with_a_switch_on(tmp_path):
    items = generate(tmp_path, "s.py", SWITCHED)
    spans = bench.defect_only_spans(tmp_path, ["pkg/s.py"])
    lines = {(i.mutations[0].start_pos[0], bench.in_spans(i, spans)) for i in items}
    switched = {line for line, inside in lines if inside}
    judged = {line for line, inside in lines if not inside}
    # line 11 (`amount > 10` decides nothing with late_switch off), 19 (after `if ... not in: return`),
    # 23 (helper: called only under a switch)
    assert {11, 19, 23} <= switched
    # the switch tests themselves and the clean path are judged: flipping `in` changes a clean run
    assert {6, 8, 12, 17, 18} <= judged and not {6, 8, 12, 17, 18} & switched
    # `not ` written before `amount and "late_switch" in ...` negates `amount` only: defect-only;
    # before `"skip_check" in self.defects` it negates the switch test: judged
    add_not = {i.mutations[0].start_pos[0]: bench.keeps_switch_test(tmp_path, i) for i in items
               if i.mutations[0].operator_name.endswith("AddNot")}
    assert add_not[12] is True and add_not[6] is False and add_not[8] is False


def test_rekey_follows_an_equivalent_to_its_moved_line_and_names_one_whose_line_was_edited(tmp_path):
    import subprocess

    repo = tmp_path / "repo"
    (repo / "pkg").mkdir(parents=True)
    (repo / "pkg" / "m.py").write_text(MODULE, encoding="utf-8")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-C", str(repo)]
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "one"], check=True)
    (tmp_path / "gen").mkdir()
    items = generate(tmp_path / "gen", "m.py", MODULE)
    add = next(bench.key_of(i) for i in items if i.mutations[0].start_pos[0] == 7
               and i.mutations[0].operator_name.endswith("Add_Sub"))
    # two mutants of one operator at one place (the number 0 of line 7 made 1, then -1): told apart
    numbers = sorted((i for i in items if i.mutations[0].start_pos[0] == 7
                      and i.mutations[0].operator_name.endswith("NumberReplacer")), key=lambda i: i.mutations[0].occurrence)
    assert len({tuple(i.mutations[0].start_pos) for i in numbers[:2]}) == 1
    first, second = (bench.key_of(i) for i in numbers[:2])
    eq = next(bench.key_of(i) for i in items if i.mutations[0].start_pos[0] == 11
              and i.mutations[0].operator_name.endswith("Eq_NotEq"))
    equivalents = repo / "eq.txt"
    equivalents.write_text(f"# comment\n{add}  reason one\n{eq}  reason two\n{second}  second\n{first}  first\n",
                           encoding="utf-8")
    # two lines inserted above both; the comparison's line edited
    edited = MODULE.replace("def merge", "X = 1\nY = 2\n\n\ndef merge").replace('code == "13"', 'code == "14"')
    (repo / "pkg" / "m.py").write_text(edited, encoding="utf-8")
    moved, lost = bench.rekey(equivalents, "HEAD", root=repo)
    text = equivalents.read_text(encoding="utf-8")
    assert moved == 3 and f"pkg/m.py:11 {add.split(' ')[1]}  reason one" in text, text
    # the numbers inserted above renumber the occurrences; each keeps its own, in the same order
    ids = {line.split("  ")[1]: line.split("  ")[0] for line in text.splitlines()[1:]}
    occurrence = {k: int(v.rsplit("#", 1)[1]) for k, v in ids.items()}
    assert ids["first"].startswith("pkg/m.py:11 core/NumberReplacer#") and ids["second"].startswith("pkg/m.py:11 ")
    assert occurrence["first"] < occurrence["second"], ids
    assert lost == [f"{eq} (its line was edited, or no such mutant at HEAD)"] and f"{eq}  reason two" in text


def test_list_names_each_chosen_mutant_with_its_diff_and_marks_a_known_equivalent(tmp_path, capsys):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "m.py").write_text(MODULE, encoding="utf-8")
    (tmp_path / "eq.txt").write_text("pkg/m.py:11 core/ReplaceComparisonOperator_Eq_NotEq#0  reason given\n",
                                     encoding="utf-8")
    settings = bench.Settings(modules=["pkg/m.py"], timeout=10, certify=[], equivalents=tmp_path / "eq.txt",
                              probe_defect="ignore_nonce", cosmic_ray={})
    args = bench.argparse.Namespace(sample=None, seed=0, replay=None, since=None)
    cwd = Path.cwd()
    try:
        assert bench.list_mutants(tmp_path, settings, args, tmp_path) == 0
    finally:
        os.chdir(cwd)
    out = capsys.readouterr().out
    assert "pkg/m.py:11 core/ReplaceComparisonOperator_Eq_NotEq#0  [equivalent: reason given]" in out
    assert '+    return code != "13"' in out and '-    return code == "13"' in out
    assert "pkg/m.py:4 core/ReplaceBinaryOperator_BitOr" not in out, "annotations are left out, as a run does"
    assert out.rstrip().endswith("eligible mutant(s)")


def test_replay_runs_exactly_the_named_mutants_and_says_which_it_could_not(mutants, tmp_path):
    _, items = mutants
    wanted = [bench.key_of(i) for i in bench.choose(items, 3, seed=5)]
    ids = tmp_path / "ids.txt"
    ids.write_text("# a comment\n" + "\n".join(f"{k}  [equivalent: x]\n    - diff line" for k in wanted)
                   + "\npkg/m.py:99 core/NumberReplacer#0\n", encoding="utf-8")
    assert bench.read_ids(ids) == [*wanted, "pkg/m.py:99 core/NumberReplacer#0"]
    args = bench.argparse.Namespace(replay=ids, since=None, sample=None, seed=0)
    chosen, replay = bench.select(items[1:] if bench.key_of(items[0]) in wanted else items, args)
    assert {bench.key_of(i) for i in chosen} <= set(wanted)
    assert replay["not_eligible_now"] == sorted({"pkg/m.py:99 core/NumberReplacer#0",
                                                 *({bench.key_of(items[0])} & set(wanted))})
    assert replay["run"] == len(chosen) == len(set(wanted) - {bench.key_of(items[0])})
