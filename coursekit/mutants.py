"""Mutation run: plant mistakes a learner or an author would make in the package and the checks, and see
whether the quick tests (no notebook executed) catch each one.

    python -m coursekit.mutants                 # every mutant, against this tree's quick tests
    python -m coursekit.mutants --only scale    # the mutants whose name contains "scale"
    python -m coursekit.mutants -- tests/test_attention.py -k softmax   # other tests: pytest's arguments after --
    make mutants                                # the same, through the Makefile

Each mutant replaces one exact piece of source text by another. The run copies the tracked files of the
course into a temporary folder once, then for each mutant writes the changed file, runs pytest there with
`-x` (the first failing test is enough), and puts the file back. The real tree is never touched. A mutant is
"caught" when some test fails, "survived" when every test passes, and "timed out" when the run passes the
time cap (counted apart: a cap is not a verdict). Introduced for issue 14, to show that a slimmer test suite
is as strong as the one before it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUICK = ["-m", "not notebooks"]  # the quick tests: tests/ without the ones that execute notebooks or builds


@dataclass(frozen=True)
class Mutant:
    name: str
    path: str  # relative to the course root
    old: str  # exact text, found exactly once in the file
    new: str
    mistake: str  # what a learner or an author would have done


MUTANTS = [
    # ---- attention and softmax (lessons 1-2)
    Mutant("scale-dropped", "attention_course/attention.py",
           "q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))", "q @ k.transpose(-2, -1)",
           "the 1/sqrt(d_k) scaling dropped"),
    Mutant("scale-by-d_k", "attention_course/attention.py",
           "q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))", "q @ k.transpose(-2, -1) / q.size(-1)",
           "scaled by d_k instead of sqrt(d_k)"),
    Mutant("scale-by-length", "attention_course/attention.py",
           "q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))", "q @ k.transpose(-2, -1) / math.sqrt(k.size(-2))",
           "scaled by the number of keys (the sentence length) instead of d_k"),
    Mutant("softmax-wrong-axis", "attention_course/attention.py",
           "return torch.softmax(x, dim=dim)", "return torch.softmax(x, dim=0)",
           "softmax over the wrong axis"),
    Mutant("softmax-numpy-global-sum", "attention_course/attention.py",
           "return e / e.sum(axis=dim, keepdims=True)", "return e / e.sum()",
           "softmax normalised over every entry instead of per row"),
    Mutant("softmax-numpy-no-shift", "attention_course/attention.py",
           "shifted = x - x.max(axis=dim, keepdims=True)", "shifted = x",
           "softmax without subtracting the row maximum (overflows)"),
    Mutant("softmax-numpy-global-max", "attention_course/attention.py",
           "shifted = x - x.max(axis=dim, keepdims=True)", "shifted = x - x.max()",
           "one maximum for the whole array instead of one per row"),
    Mutant("empty-rows-nan", "attention_course/attention.py",
           "weights = weights.masked_fill(~mask.any(dim=-1, keepdim=True), 0.0)", "pass",
           "a fully masked row left as NaN"),
    Mutant("lookup-argmin", "attention_course/lookup.py",
           "values[np.argmax(dot_scores(query, keys))]", "values[np.argmin(dot_scores(query, keys))]",
           "hard lookup takes the worst match"),
    Mutant("cosine-global-norm", "attention_course/lookup.py",
           "np.linalg.norm(keys, axis=-1) * np.linalg.norm(query)", "np.linalg.norm(keys) * np.linalg.norm(query)",
           "a norm with no axis: one norm for the whole matrix of keys"),
    # ---- masks (lesson 5)
    Mutant("mask-convention-flipped", "attention_course/attention.py",
           'scores = scores.masked_fill(~mask, float("-inf"))', 'scores = scores.masked_fill(mask, float("-inf"))',
           "the opposite mask convention (True = hide)"),
    Mutant("causal-mask-upper", "attention_course/masking.py",
           "torch.ones(T, T, dtype=torch.bool).tril()", "torch.ones(T, T, dtype=torch.bool).triu()",
           "a causal mask that lets each token see the future instead of the past"),
    Mutant("causal-mask-off-by-one", "attention_course/masking.py",
           "torch.ones(T, T, dtype=torch.bool).tril()", "torch.ones(T, T, dtype=torch.bool).tril(-1)",
           "a causal mask that hides the diagonal"),
    Mutant("padding-mask-flipped", "attention_course/masking.py",
           "(tokens != pad_id)[:, None, None, :]", "(tokens == pad_id)[:, None, None, :]",
           "a padding mask True on the pads"),
    Mutant("padding-mask-query-axis", "attention_course/masking.py",
           "(tokens != pad_id)[:, None, None, :]", "(tokens != pad_id)[:, None, :, None]",
           "padding hidden along the query axis instead of the key axis"),
    # ---- positions (lesson 4)
    Mutant("sin-cos-swapped", "attention_course/positional.py",
           "pe[..., 0::2] = np.sin(angles)", "pe[..., 0::2] = np.cos(angles)",
           "even columns take the cosine"),
    Mutant("frequency-exponent", "attention_course/positional.py",
           "base ** (-two_i / d_model)", "base ** (-two_i / (d_model - 2))",
           "the exponent's denominator off by two"),
    # ---- multi-head (lesson 6)
    Mutant("split-heads-wrong-view", "attention_course/multihead.py",
           "x.view(B, T, self.num_heads, self.d_k).transpose(1, 2)", "x.view(B, self.num_heads, T, self.d_k)",
           "heads split by reshaping without the transpose"),
    Mutant("from-torch-W_O-transposed", "attention_course/multihead.py",
           "ours.W_o.weight.copy_(module.out_proj.weight)", "ours.W_o.weight.copy_(module.out_proj.weight.T)",
           "a transposed W_O copied from torch"),
    # ---- encoder and decoder (lessons 7-8)
    Mutant("encoder-no-residual", "attention_course/transformer.py",
           "x = self.norm1(x + self._self_attention(x, mask))", "x = self.norm1(self._self_attention(x, mask))",
           "the encoder's attention sublayer without its residual connection"),
    Mutant("encoder-pre-norm-for-post", "attention_course/transformer.py",
           "        if self.norm_first:\n            x = x + self._self_attention(self.norm1(x), mask)",
           "        if not self.norm_first:\n            x = x + self._self_attention(self.norm1(x), mask)",
           "pre-norm where post-norm is meant (and the other way round)"),
    Mutant("feed-forward-no-relu", "attention_course/transformer.py",
           "self.linear2(self.dropout(F.relu(self.linear1(x))))", "self.linear2(self.dropout(self.linear1(x)))",
           "the feed-forward network without its ReLU"),
    Mutant("cross-attention-self", "attention_course/transformer.py",
           "self.cross_attn(x, memory, memory, mask)", "self.cross_attn(x, x, x, mask)",
           "cross-attention that reads the decoder's own states instead of the encoder's output"),
    Mutant("shift-right-off-by-one", "attention_course/decoding.py",
           "torch.cat([start, targets[:, :-1]], dim=1)", "torch.cat([start, targets[:, 1:]], dim=1)",
           "shift_right drops the first target instead of the last"),
    # ---- the whole model (lesson 9)
    Mutant("embeddings-not-scaled", "attention_course/transformer.py",
           "x = table(tokens) * self.d_model ** 0.5", "x = table(tokens)",
           "embeddings not multiplied by sqrt(d_model)"),
    Mutant("target-mask-no-causal", "attention_course/transformer.py",
           "return causal_mask(tgt.shape[1]).to(tgt.device) & padding_mask(tgt, self.pad_id)",
           "return padding_mask(tgt, self.pad_id)",
           "the decoder's self-attention without its causal mask"),
    # ---- subtler ones: caught only by some shapes, sizes or settings, the points a slimmer grid must keep
    Mutant("merge-heads-no-transpose", "attention_course/multihead.py",
           "x.transpose(1, 2).reshape(B, T, h * d_k)", "x.reshape(B, T, h * d_k)",
           "heads merged by a reshape without the transpose (right only for one head or one token)"),
    Mutant("padding-id-ignored", "attention_course/masking.py",
           "(tokens != pad_id)[:, None, None, :]", "(tokens != 0)[:, None, None, :]",
           "a padding mask that assumes the pad id is 0"),
    Mutant("empty-rows-wrong-axis", "attention_course/attention.py",
           "~mask.any(dim=-1, keepdim=True)", "~mask.any(dim=-2, keepdim=True)",
           "empty rows looked for along the query axis"),
    Mutant("temperature-multiplies", "attention_course/lookup.py",
           "softmax(dot_scores(query, keys) / temperature)", "softmax(dot_scores(query, keys) * temperature)",
           "the temperature multiplies the scores (right only at temperature 1)"),
    Mutant("softmax-numpy-last-axis", "attention_course/attention.py",
           "shifted = x - x.max(axis=dim, keepdims=True)", "shifted = x - x.max(axis=-1, keepdims=True)",
           "the maximum always taken over the last axis, whatever `dim` says"),
    Mutant("positions-from-one", "attention_course/positional.py",
           "encode_positions(torch.arange(num_positions), d_model, base, dtype)",
           "encode_positions(torch.arange(1, num_positions + 1), d_model, base, dtype)",
           "positions counted from 1"),
    Mutant("two-digit-year-pivot", "attention_course/dates.py",
           "return 1900 + yy if yy >= 69 else 2000 + yy", "return 1900 + yy if yy >= 70 else 2000 + yy",
           "the two-digit-year rule off by one at its pivot"),
    Mutant("decoder-norm-eps-not-copied", "attention_course/transformer.py",
           "for mine, theirs in ((ours.norm1, layer.norm1), (ours.norm2, layer.norm2), (ours.norm3, layer.norm3)):",
           "for mine, theirs in ((ours.norm1, layer.norm1), (ours.norm2, layer.norm2)):",
           "from_torch leaves the decoder's third LayerNorm uncopied"),
    # ---- the checks' own machinery
    Mutant("checks-loose-tolerance", "attention_course/checks/core.py",
           "np.allclose(a, b, rtol=1e-5, atol=1e-7)", "np.allclose(a, b, rtol=1e-1, atol=1e-1)",
           "a check that accepts answers 10% off"),
    Mutant("checks-no-copy-of-inputs", "attention_course/checks/core.py",
           "args = copy.deepcopy(args)", "pass",
           "the learner's function receives the check's own inputs, and may change them"),
    Mutant("check-causal-expects-upper", "attention_course/checks/lesson05.py",
           "expected = np.tril(ones)", "expected = np.triu(ones)",
           "checks.causal_mask expects the wrong triangle"),
    Mutant("check-shift-right-expects-targets", "attention_course/checks/lesson08.py",
           "expected = np.concatenate([start, t[:, :-1]], axis=1)  # (B, T)", "expected = t",
           "checks.shift_right expects the targets themselves"),
]


def copy_tree(root: Path, into: Path) -> None:
    """The course's tracked files (as git lists them), without the generated notebooks' run outputs."""
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=root, check=True, capture_output=True).stdout
    for name in filter(None, listed.decode().split("\0")):
        source = root / name
        if source.is_file():
            target = into / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


def apply(tree: Path, mutant: Mutant) -> str:
    """Write the mutant into `tree`; returns the original text, to be put back."""
    path = tree / mutant.path
    text = path.read_text(encoding="utf-8")
    count = text.count(mutant.old)
    if count != 1:
        raise ValueError(f"mutant {mutant.name}: its text occurs {count} times in {mutant.path}, not once")
    path.write_text(text.replace(mutant.old, mutant.new), encoding="utf-8")
    return text


def related_tests(tree: Path, mutant: Mutant, pytest_args: list[str]) -> list[str]:
    """The test files among `pytest_args` (folders spelled out) that are the mutated module's own:
    tests/test_<module>*.py, or test_checks_<lessonNN>.py for checks/lessonNN.py, or test_checks_* for the
    checks' core. Options such as -m are kept."""
    stem = Path(mutant.path).stem
    word = {"core": "checks", "__init__": "checks"}.get(stem, stem)
    ignored = {arg.split("=", 1)[1] for arg in pytest_args if arg.startswith("--ignore=")}
    files, options = [], []
    for arg in pytest_args:
        path = tree / arg.split("::")[0]
        if not path.exists():
            options.append(arg)  # an option or an option's value, such as -m "not notebooks"
        elif path.is_dir():
            files += [str(p.relative_to(tree)) for p in sorted(path.glob("test_*.py"))
                      if word in p.stem and str(p.relative_to(tree)) not in ignored]
        elif word in path.stem:
            files.append(arg)
    return files + options if files else []


def _pytest(tree: Path, args: list[str], cap: float) -> tuple[int, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_ADDOPTS",)}
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # each mutant is imported fresh, never from a stale .pyc
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "--no-header", *args]
    result = subprocess.run(command, check=False, cwd=tree, env=env, capture_output=True, text=True, timeout=cap)
    failed = next((line.split(" ")[1] for line in result.stdout.splitlines() if line.startswith("FAILED ")), "")
    return result.returncode, failed


def run_one(tree: Path, mutant: Mutant, pytest_args: list[str], cap: float) -> dict:
    """Caught when a test fails: first the mutated module's own tests (quick to collect), then, if they all
    pass, every test in `pytest_args`. The verdict is the one the whole set alone would give."""
    original = apply(tree, mutant)
    start = time.perf_counter()
    try:
        code, failed = 0, ""
        related = related_tests(tree, mutant, pytest_args)
        if related:
            code, failed = _pytest(tree, related, cap)
        if code == 0:
            code, failed = _pytest(tree, pytest_args, cap)
        verdict = "survived" if code == 0 else "caught"
    except subprocess.TimeoutExpired:
        verdict, failed = "timed out", ""
    finally:
        (tree / mutant.path).write_text(original, encoding="utf-8")
    return {"name": mutant.name, "mistake": mutant.mistake, "verdict": verdict, "by": failed,
            "seconds": round(time.perf_counter() - start, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="the course tree to mutate (default: this one)")
    parser.add_argument("--only", action="append", default=[],
                        help="run the mutants whose name contains this text (may be given again)")
    parser.add_argument("--cap", type=float, default=600, help="seconds each mutant's test run may take")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("pytest_args", nargs="*", default=None,
                        help="which tests, as pytest arguments (default: tests -m 'not notebooks')")
    args = parser.parse_args(argv)
    mutants = [m for m in MUTANTS if not args.only or any(text in m.name for text in args.only)]
    pytest_args = args.pytest_args or ["tests", *QUICK]
    results = []
    with tempfile.TemporaryDirectory(prefix="mutants-") as folder:
        tree = Path(folder)
        copy_tree(args.root.resolve(), tree)
        for mutant in mutants:
            results.append(run_one(tree, mutant, pytest_args, args.cap))
            row = results[-1]
            print(f"{row['verdict']:>9}  {row['name']:<34} {row['seconds']:>6.1f} s  {row['by']}", flush=True)
    caught = sum(r["verdict"] == "caught" for r in results)
    print(f"{caught} of {len(results)} mutants caught; "
          f"{sum(r['verdict'] == 'survived' for r in results)} survived, "
          f"{sum(r['verdict'] == 'timed out' for r in results)} timed out.")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    return 0 if caught == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
