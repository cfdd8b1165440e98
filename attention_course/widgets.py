"""Interactive widgets (ipywidgets 8). Each is a function that returns a layout.

The work happens in a plain function (such as `lookup_state`) that the tests call directly;
the widget only reads its controls, calls that function, and shows the answer. Tests drive a
widget headless by setting `widget.controls[name].value` and reading `widget.summary.value`.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import ipywidgets as w
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import display

from . import lookup, plots
from .positional import POSITIONAL_D_MODEL, POSITIONAL_NUM_POSITIONS, positional_state


def _show(plot: w.Output, fig) -> None:
    """Replace what `plot` shows by `fig`, then free the figure."""
    with plot:
        plot.clear_output(wait=True)
        display(fig)
    plt.close(fig)


def _one_axes_figure(figsize, draw):
    """A one-axes figure drawn by `draw(ax)`."""
    fig, ax = plt.subplots(figsize=figsize)
    draw(ax)
    fig.tight_layout()
    return fig


def _assemble(controls: dict, rows: list, summary: w.HTML, plot: w.Output, update) -> w.VBox:
    """Redraw on every change of a control, draw once now, and lay out: rows of controls, summary, plot.

    The box carries `.controls` and `.summary`, which the tests use to drive the widget headless.
    """
    for control in controls.values():
        control.observe(update, names="value")
    update()
    box = w.VBox([*rows, summary, plot])
    box.controls, box.summary = controls, summary
    return box


@dataclass(frozen=True)
class LookupState:
    """Everything the lookup widget shows, for one query text and temperature."""

    query: np.ndarray  # (d_k,)
    weights: np.ndarray  # (N,), all zeros when there is nothing to show
    output: np.ndarray  # (d_v,)
    message: str  # one plain HTML sentence: the answer, or what is wrong with the input


def lookup_state(query_text: str, temperature: float) -> LookupState:
    """The soft lookup for `query_text` at `temperature`, with a sentence that explains it."""
    query = lookup.embed_query(query_text)
    empty = LookupState(query, np.zeros(len(lookup.TITLES)), np.zeros(lookup.VALUES.shape[1]), "")
    if not np.isfinite(temperature) or temperature <= 0:
        return LookupState(query, empty.weights, empty.output, "The temperature must be a positive number.")
    output, weights = lookup.soft_lookup(query, lookup.KEYS, lookup.VALUES, temperature)
    best = int(np.argmax(weights))
    words = lookup.known_words(query_text)
    if words:
        heard = f"Understood: <b>{html.escape(' '.join(words))}</b>. "
    else:
        heard = ("No word I know, so every score is 0. "
                 f"Try words such as {', '.join(sorted(set(list(lookup.VOCABULARY)[::5])))}. ")
    if np.ptp(weights) < 1e-12:
        top = f"Every video gets weight {weights[0]:.3f}"
    else:
        top = f"Top video: <b>{html.escape(lookup.TITLES[best])}</b> with weight {weights[best]:.2f}"
    message = (
        f"{heard}{top}; "
        f"the soft lookup returns {output[0]:.1f} minutes and {output[1]:.2f} stars "
        f"(entropy {lookup.entropy_bits(weights):.2f} bits)."
    )
    return LookupState(query, weights, output, message)


def lookup_explorer(query: str = "cat piano", temperature: float = 1.0) -> w.VBox:
    """Type a search and move the temperature; see each video's weight and the blended result. Lesson 1."""
    controls = {
        "query": w.Text(value=query, description="search", continuous_update=False),
        "temperature": w.FloatLogSlider(value=temperature, base=10, min=-2, max=2, step=0.05,
                                        description="temperature", readout_format=".2f",
                                        continuous_update=False, style={"description_width": "initial"}),
    }
    summary = w.HTML()
    plot = w.Output()

    def update(_change=None) -> None:
        state = lookup_state(controls["query"].value, controls["temperature"].value)
        summary.value = state.message
        title = f"temperature {controls['temperature'].value:.2f}"
        _show(plot, _one_axes_figure((6.5, 3.2), lambda ax: plots.weights_bar(ax, lookup.TITLES, state.weights, title)))

    return _assemble(controls, [w.HBox(list(controls.values()))], summary, plot, update)


# ---------------------------------------------------------------- lesson 2: why scale by 1/√d_k


@dataclass(frozen=True)
class ScalingState:
    """Everything the scaling widget shows, for one d_k with or without the 1/√d_k scale."""

    d_k: int
    scaled: bool
    scores: np.ndarray  # (N,) the scores fed to the softmax
    weights: np.ndarray  # (N,), all zeros when there is nothing to show
    entropy: float  # bits
    message: str  # one plain HTML sentence: what the weights do, or what is wrong with the input


def scaling_state(d_k: int, scaled: bool) -> ScalingState:
    """One seeded query against 16 seeded keys of width d_k, scaled or not, with a sentence about it."""
    from . import scaling  # here, not at the top: widgets.py is shared

    n = scaling.EXAMPLE_NUM_KEYS
    largest = max(scaling.EXAMPLE_D_KS)
    if isinstance(d_k, bool) or not isinstance(d_k, (int, np.integer)) or not 1 <= d_k <= largest:
        zeros = np.zeros(n)
        return ScalingState(0, bool(scaled), zeros, zeros, 0.0,
                            f"d_k must be a whole number from 1 to {largest}; got {html.escape(repr(d_k))}.")
    d_k, scaled = int(d_k), bool(scaled)
    scores, weights = scaling.example(d_k, scaled)
    entropy = float(scaling.entropy_bits(weights))
    best = int(np.argmax(weights))
    how = "scaled by 1/√d_k" if scaled else "<b>not</b> scaled"
    typical = "1" if scaled else f"√d_k = {np.sqrt(d_k):.1f}"
    message = (
        f"d_k = {d_k}, {how}: the {n} scores have standard deviation {scores.std():.2f} "
        f"({typical} on average). Key {best + 1} takes weight <b>{weights[best]:.2f}</b>; "
        f"the entropy is <b>{entropy:.2f} bits</b> (at most {np.log2(n):.0f}, when all keys weigh alike)."
    )
    return ScalingState(d_k, scaled, scores, weights, entropy, message)


def scaling_explorer(d_k: int = 64, scaled: bool = False) -> w.VBox:
    """Move d_k and switch the 1/√d_k scale on and off; see the weights of 16 keys and their entropy. Lesson 2."""
    from . import scaling

    controls = {
        "d_k": w.SelectionSlider(options=list(scaling.EXAMPLE_D_KS), value=d_k, description="d_k",
                                 continuous_update=False),
        "scaled": w.Checkbox(value=scaled, description="scale by 1/√d_k", indent=False),
    }
    summary = w.HTML()
    plot = w.Output()

    def update(_change=None) -> None:
        state = scaling_state(controls["d_k"].value, controls["scaled"].value)
        summary.value = state.message
        label = "scaled by 1/√d_k" if state.scaled else "not scaled"
        title = f"d_k = {state.d_k}, {label}: entropy {state.entropy:.2f} bits"
        _show(plot, _one_axes_figure((6.5, 3), lambda ax: plots.key_weights_bar(ax, state.weights, title)))

    return _assemble(controls, [w.HBox(list(controls.values()))], summary, plot, update)


# ---------------------------------------------------------------- lesson 3: one token's attention over a sentence


@dataclass(frozen=True)
class TokenAttentionState:
    """Everything the token-attention widget shows: one token's self-attention weights over the sentence."""

    tokens: tuple[str, ...]
    weights: np.ndarray  # (T,), all zeros when there is nothing to show
    message: str  # one plain HTML sentence: where the token looks, or what is wrong with the input


def token_attention_state(token: str, weights: str = "hand-designed", strength: float = 6.0,
                          seed: int = 0) -> TokenAttentionState:
    """The attention of `token` over lesson 3's sentence, under hand-designed or random (seeded) projections."""
    from . import self_attention as sa  # here, not at the top: widgets.py is shared

    tokens = tuple(sa.tokenize(sa.SENTENCE))
    zeros = np.zeros(len(tokens))
    if token not in tokens:
        return TokenAttentionState(tokens, zeros, f"Pick one of the tokens: {', '.join(tokens)}.")
    if weights not in ("hand-designed", "random"):
        return TokenAttentionState(tokens, zeros, "The weights are either 'hand-designed' or 'random'.")
    if isinstance(strength, bool) or not isinstance(strength, (int, float, np.number)) or not (
            np.isfinite(strength) and strength >= 0):
        return TokenAttentionState(tokens, zeros, "The strength must be a number from 0 up.")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        return TokenAttentionState(tokens, zeros, "The seed must be a whole number from 0 up.")
    row = sa.attention_over_sentence(weights, float(strength), int(seed)).numpy()[tokens.index(token)]  # (T,)
    which = "hand-designed weights" if weights == "hand-designed" else f"random weights (seed {seed})"
    top = [t for t, weight in zip(tokens, row) if weight > row.max() - 1e-6]  # ties are named together
    if np.ptp(row) < 1e-9:
        where = f"<b>{html.escape(token)}</b> spreads its attention evenly, {row[0]:.2f} to every token"
    else:
        named = " and ".join(f"<b>{html.escape(t)}</b>" for t in top)
        where = f"<b>{html.escape(token)}</b> attends most to {named} ({row.max():.2f}{' each' if len(top) > 1 else ''})"
    listed = ", ".join(f"{html.escape(t)} {w:.2f}" for t, w in zip(tokens, row))
    pair = row[tokens.index("I")] + row[tokens.index("you")]
    message = (f"With the {which} at strength {float(strength):.1f}, {where}. All its weights: {listed}; "
               f"'I' and 'you' together get {pair:.3f}.")
    return TokenAttentionState(tokens, row, message)


def token_attention_explorer(token: str = "love", weights: str = "hand-designed", strength: float = 6.0,
                             seed: int = 0) -> w.VBox:
    """Pick a token of "Hello I love you" and see its attention, with hand-designed or random weights. Lesson 3."""
    from . import self_attention as sa

    tokens = sa.tokenize(sa.SENTENCE)
    controls = {
        "token": w.ToggleButtons(options=tokens, value=token, description="token",
                                 style={"button_width": "70px"}),
        "weights": w.ToggleButtons(options=["hand-designed", "random"], value=weights, description="weights"),
        "strength": w.FloatSlider(value=strength, min=0.0, max=10.0, step=0.1, description="strength",
                                  readout_format=".1f", continuous_update=False),
        "seed": w.IntSlider(value=seed, min=0, max=9, description="random seed", continuous_update=False,
                            style={"description_width": "initial"}),
    }
    summary = w.HTML()
    plot = w.Output()

    def update(_change=None) -> None:
        controls["seed"].disabled = controls["weights"].value != "random"  # the seed only picks random weights
        state = token_attention_state(controls["token"].value, controls["weights"].value,
                                      controls["strength"].value, controls["seed"].value)
        summary.value = state.message
        title = f"{controls['token'].value!r} attends to ({controls['weights'].value} weights)"
        _show(plot, _one_axes_figure((6.0, 2.6), lambda ax: plots.weights_bar(ax, list(state.tokens), state.weights, title)))

    rows = [w.HBox([controls["token"], controls["weights"]]), w.HBox([controls["strength"], controls["seed"]])]
    return _assemble(controls, rows, summary, plot, update)


# ---------------------------------------------------------------- lesson 4: the positional encoding at work

def positional_explorer(position: int = 10, dimension: int = 4, offset: int = 5) -> w.VBox:
    """Move the position, the dimension and the offset k; see the encoding, its dot products and M_k. Lesson 4."""
    last = POSITIONAL_NUM_POSITIONS - 1
    max_offset = 31
    controls = {
        "position": w.IntSlider(value=position, min=0, max=last - max_offset, description="position",
                                continuous_update=False),
        "dimension": w.IntSlider(value=dimension, min=0, max=POSITIONAL_D_MODEL - 1, description="dimension",
                                 continuous_update=False),
        "offset": w.IntSlider(value=offset, min=0, max=max_offset, description="offset k",
                              continuous_update=False),
    }
    summary = w.HTML()
    plot = w.Output()

    def update(_change=None) -> None:
        state = positional_state(controls["position"].value, controls["dimension"].value, controls["offset"].value)
        summary.value = state.message
        _show(plot, plots.positional_view(state))

    return _assemble(controls, [w.HBox(list(controls.values()))], summary, plot, update)


# ---------------------------------------------------------------- lesson 5: build a mask by clicking


@dataclass(frozen=True)
class MaskState:
    """Everything the mask widget shows: a (T, T) mask over lesson 5's example and the weights it gives."""

    tokens: tuple[str, ...]
    mask: np.ndarray  # (T, T) bool, True = may attend; all False when the input was not a mask
    weights: np.ndarray  # (T, T); a row with no allowed key is all zeros
    empty_rows: tuple[int, ...]  # the queries that may attend to nothing
    message: str  # one plain HTML sentence: what the mask does, or what is wrong with the input


def _listed(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def mask_state(mask) -> MaskState:
    """Lesson 3's hand-designed attention over "Hello I love you <pad>" under `mask`, with a sentence about it.

    `mask` is a (T, T) grid of True/False (or 1/0), True = may attend, as a tensor, an array or nested lists.
    """
    import torch  # here, not at the top: widgets.py is shared

    from . import masking

    tokens = masking.EXAMPLE_TOKENS
    T = len(tokens)
    zeros = np.zeros((T, T))
    try:
        array = np.asarray(mask.detach().cpu() if hasattr(mask, "detach") else mask)
    except (TypeError, ValueError):
        array = np.zeros(0)
    valid = array.shape == (T, T) and (array.dtype == bool or (
        np.issubdtype(array.dtype, np.number) and np.isin(array, (0, 1)).all()))
    if not valid:
        return MaskState(tokens, zeros.astype(bool), zeros, (),
                         f"The mask must be a {T} × {T} grid of True/False (1/0), one row per query.")
    array = array.astype(bool)
    weights = masking.example_attention(torch.as_tensor(array)).numpy()  # (T, T)
    empty = tuple(i for i in range(T) if not array[i].any())
    if len(empty) == T:
        what = "No query may attend to anything: every row's weights would be NaN; the package gives them zeros."
    elif empty:
        rows = _listed([f"{i} (<b>{html.escape(tokens[i])}</b>)" for i in empty])
        if len(empty) == 1:
            what = f"Row {rows} may attend to nothing: its weights would be NaN; the package gives it zeros."
        else:
            what = f"Rows {rows} may attend to nothing: their weights would be NaN; the package gives them zeros."
    elif array.all():
        what = "Every query may attend to every key (no mask). Every row of weights sums to 1."
    elif np.array_equal(array, np.tril(np.ones((T, T), dtype=bool))):
        what = ("This is the causal mask: each token sees itself and the tokens before it. "
                "Every row of weights sums to 1.")
    else:
        what = "Every query may attend to at least one key, so every row of weights sums to 1."
    hidden = int((~array).sum())
    if hidden == 1:
        what += f" 1 of {T * T} cells is hidden; its weight is exactly 0."
    elif hidden:
        what += f" {hidden} of {T * T} cells are hidden; their weights are exactly 0."
    return MaskState(tokens, array, weights, empty, what)


def mask_explorer(mask: str = "causal") -> w.VBox:
    """Click a T × T grid to build a mask and see the attention weights it gives. Lesson 5.

    `mask` is the starting mask: "causal", "all allowed" or "none allowed". Each toggle is one (query, key)
    cell, named "i,j" in `.controls`; the buttons "causal", "all allowed" and "none allowed" reset the grid.
    """
    from . import masking

    tokens = masking.EXAMPLE_TOKENS
    T = len(tokens)
    presets = {
        "causal": np.tril(np.ones((T, T), dtype=bool)),
        "all allowed": np.ones((T, T), dtype=bool),
        "none allowed": np.zeros((T, T), dtype=bool),
    }
    if mask not in presets:
        raise ValueError(f"mask must be one of {list(presets)}; got {mask!r}")
    cells = {
        f"{i},{j}": w.ToggleButton(value=bool(presets[mask][i, j]), tooltip=f"may {tokens[i]} attend to {tokens[j]}?",
                                   layout=w.Layout(width="58px", height="30px"))
        for i in range(T) for j in range(T)
    }
    buttons = {name: w.Button(description=name, layout=w.Layout(width="110px")) for name in presets}
    controls = {**cells, **buttons}
    summary = w.HTML()
    plot = w.Output()
    holding = [False]  # True while a preset sets many cells: redraw once, not T·T times

    def current() -> np.ndarray:
        return np.array([[cells[f"{i},{j}"].value for j in range(T)] for i in range(T)], dtype=bool)

    def update(_change=None) -> None:
        if holding[0]:
            return
        for cell in cells.values():
            cell.description = "✓" if cell.value else "·"
            cell.button_style = "info" if cell.value else ""
        state = mask_state(current())
        summary.value = state.message
        title = "attention weights under this mask"
        def draw(ax) -> None:
            plots.masked_weights_ax(ax, state.mask, state.weights, list(tokens), title)
            plots.colour_bar(ax.images[0], ax, "weight")

        _show(plot, _one_axes_figure((4.6, 4.2), draw))

    def preset(name: str):
        def apply(_button=None) -> None:
            holding[0] = True
            try:
                for (i, j), allowed in np.ndenumerate(presets[name]):
                    cells[f"{i},{j}"].value = bool(allowed)
            finally:
                holding[0] = False
            update()
        return apply

    for cell in cells.values():
        cell.observe(update, names="value")
    for name, button in buttons.items():
        button.on_click(preset(name))
    update()
    label = w.Layout(width="58px", height="30px")
    header = [w.HTML("<b>query ↓ key →</b>", layout=w.Layout(width="110px"))]
    header += [w.HTML(f"<b>{html.escape(t)}</b>", layout=label) for t in tokens]
    rows = [w.HBox(header)]
    for i, token in enumerate(tokens):
        rows.append(w.HBox([w.HTML(f"<b>{html.escape(token)}</b>", layout=w.Layout(width="110px"))]
                           + [cells[f"{i},{j}"] for j in range(T)]))
    grid = w.VBox([*rows, w.HBox(list(buttons.values()))])
    box = w.VBox([w.HBox([grid, plot]), summary])
    box.controls, box.summary = controls, summary
    return box


# ---------------------------------------------------------------- lesson 6: one head's weights over the sentence


@dataclass(frozen=True)
class HeadState:
    """Everything the head widget shows: one head's weights for one query token."""

    tokens: tuple[str, ...]
    num_heads: int
    weights: np.ndarray  # (T,), all zeros when there is nothing to show
    message: str  # one plain HTML sentence: where the head looks, or what is wrong with the input


def head_state(kind: str, head: int, token: str) -> HeadState:
    """The weights of head `head` of `kind` (see conv_heads.HEAD_KINDS) for the query `token`. Lesson 6."""
    from . import conv_heads  # here, not at the top: widgets.py is shared

    tokens = tuple(conv_heads.sentence_tokens())
    zeros = np.zeros(len(tokens))
    if kind not in conv_heads.HEAD_KINDS:
        return HeadState(tokens, 0, zeros, f"Pick one of: {', '.join(conv_heads.HEAD_KINDS)}.")
    names = conv_heads.head_names(kind)
    if isinstance(head, bool) or not isinstance(head, (int, np.integer)) or not 0 <= head < len(names):
        return HeadState(tokens, len(names), zeros, f"The {kind} are numbered 0 to {len(names) - 1}.")
    if token not in tokens:
        return HeadState(tokens, len(names), zeros, f"Pick one of the tokens: {', '.join(tokens)}.")
    row = conv_heads.sentence_heads(kind)[head, tokens.index(token)].numpy()  # (T,)
    if row.sum() < 1e-9:
        where = "has no key to attend to (its offset falls off the sentence), so this head gives it zero output"
    else:
        top = [t for t, weight in zip(tokens, row) if weight > row.max() - 1e-6]
        named = " and ".join(f"<b>{html.escape(t)}</b>" for t in top)
        where = f"attends most to {named} ({row.max():.2f}{' each' if len(top) > 1 else ''})"
    listed = ", ".join(f"{html.escape(t)} {w:.2f}" for t, w in zip(tokens, row))
    message = (f"In '{html.escape(' '.join(tokens))}', {kind[:-6]} head {head} ({html.escape(names[head])}): "
               f"<b>{html.escape(token)}</b> {where}. All its weights: {listed}.")
    return HeadState(tokens, len(names), row, message)


def head_explorer(kind: str = "structured heads", head: int = 0, token: str = "love") -> w.VBox:
    """Choose a kind of heads, a head and a query token; see that head's weights over the sentence. Lesson 6."""
    from . import conv_heads

    tokens = conv_heads.sentence_tokens()
    controls = {
        "kind": w.Dropdown(options=list(conv_heads.HEAD_KINDS), value=kind, description="heads"),
        "head": w.IntSlider(value=head, min=0, max=len(conv_heads.head_names(kind)) - 1, description="head",
                            continuous_update=False),
        "token": w.ToggleButtons(options=tokens, value=token, description="query",
                                 style={"button_width": "70px"}),
    }
    summary = w.HTML()
    plot = w.Output()

    def update(_change=None) -> None:
        controls["head"].max = len(conv_heads.head_names(controls["kind"].value)) - 1  # clamps the value too
        state = head_state(controls["kind"].value, controls["head"].value, controls["token"].value)
        summary.value = state.message
        title = f"{controls['kind'].value[:-6]} head {controls['head'].value}: {controls['token'].value!r} attends to"
        _show(plot, _one_axes_figure((6.0, 2.6), lambda ax: plots.weights_bar(ax, list(state.tokens), state.weights,
                                                                              title)))

    rows = [w.HBox([controls["kind"], controls["head"]]), controls["token"]]
    return _assemble(controls, rows, summary, plot, update)


# ---------------------------------------------------------------- lesson 7: LayerNorm vs BatchNorm on a small batch


@dataclass(frozen=True)
class NormState:
    """Everything the norm widget shows: a (B, T, d_model) batch and what LayerNorm and BatchNorm make of it."""

    x: np.ndarray  # (B, T, d_model); all zeros when the input could not be read
    layer: np.ndarray  # (B, T, d_model), LayerNorm with gamma = 1, beta = 0
    batch: np.ndarray  # (B, T, d_model), BatchNorm with batch statistics, gamma = 1, beta = 0
    kind: str  # "LayerNorm" or "BatchNorm": whose groups are outlined
    message: str  # one plain HTML sentence: what the chosen norm does, or what is wrong with the input


def _parse_token(text, label: str, d_model: int):
    """A token's features from text such as "1, 2, 3, 4"; returns (values, None) or (None, the problem)."""
    parts = str(text).replace(",", " ").split()
    try:
        values = [float(part) for part in parts]
    except ValueError:
        return None, f"Token {label}: “{html.escape(str(text))}” is not a list of numbers."
    if len(values) != d_model:
        return None, f"Token {label} needs {d_model} numbers separated by commas or spaces; it has {len(values)}."
    if not all(np.isfinite(values)):
        return None, f"Token {label} must have finite numbers only."
    return values, None


def norm_state(rows, kind: str = "LayerNorm") -> NormState:
    """LayerNorm and BatchNorm of a batch typed as one string per token ("1, 2, 3, 4"). Lesson 7.

    `rows` maps the token labels "s1 t1", ..., "s2 t3" (sentence, token) to their feature strings; a list of
    B·T strings in that order works too.
    """
    import torch

    from . import normalization

    B, T, d_model = np.shape(normalization.NORM_EXAMPLE)
    labels = normalization.token_labels(B, T)
    empty = np.zeros((B, T, d_model))
    if kind not in ("LayerNorm", "BatchNorm"):
        return NormState(empty, empty, empty, "LayerNorm", "Choose LayerNorm or BatchNorm.")
    texts = [rows.get(label, "") for label in labels] if isinstance(rows, dict) else list(rows)
    if len(texts) != B * T:
        return NormState(empty, empty, empty, kind, f"Give {B * T} tokens, one string of {d_model} numbers each.")
    values = []
    for label, text in zip(labels, texts):
        token, problem = _parse_token(text, label, d_model)
        if problem:
            return NormState(empty, empty, empty, kind, problem)
        values.append(token)
    x = torch.tensor(values, dtype=torch.float64).reshape(B, T, d_model)  # (B·T, d_model) -> (B, T, d_model)
    layer, batch = normalization.norm_outputs(x)
    if kind == "LayerNorm":
        what = (f"<b>LayerNorm</b> normalises each token over its own {d_model} features: {B * T} groups of "
                f"{d_model} numbers (the outlined rows), statistics over the last axis only. Each row of its output "
                "has mean 0 and standard deviation 1.")
        flat = [labels[i] for i, row in enumerate(x.reshape(B * T, d_model)) if float(row.std()) == 0.0]
        if flat:
            what += (f" {html.escape(', '.join(flat))}: every feature equal, so the variance is 0 and LayerNorm "
                     "returns zeros (eps keeps the division finite).")
    else:
        what = (f"<b>BatchNorm</b> normalises each feature over all {B * T} tokens of both sentences: {d_model} "
                f"groups of {B * T} numbers (the outlined columns), statistics over the axes B and T. Its feature "
                f"means here are {np.round(x.mean(dim=(0, 1)).numpy(), 2).tolist()}; each column of its output has "
                "mean 0 and standard deviation 1.")
    return NormState(x.numpy(), layer.numpy(), batch.numpy(), kind, what)


def norm_explorer(kind: str = "LayerNorm") -> w.VBox:
    """Type the features of 6 tokens (2 sentences of 3); see which numbers LayerNorm and BatchNorm normalise
    together, and their outputs. Lesson 7."""
    from . import normalization

    B, T, d_model = np.shape(normalization.NORM_EXAMPLE)
    labels = normalization.token_labels(B, T)
    example = np.reshape(normalization.NORM_EXAMPLE, (B * T, d_model))
    controls = {
        label: w.Text(value=", ".join(f"{v:g}" for v in row), description=label, continuous_update=False,
                      layout=w.Layout(width="210px"))
        for label, row in zip(labels, example)
    }
    controls["kind"] = w.ToggleButtons(options=["LayerNorm", "BatchNorm"], value=kind, description="outline")
    summary = w.HTML()
    plot = w.Output()

    def update(_change=None) -> None:
        state = norm_state({label: controls[label].value for label in labels}, controls["kind"].value)
        summary.value = state.message
        fig, axes = plt.subplots(1, 3, figsize=(10.5, 3.1))
        plots.norm_view(axes, state.x, state.kind)
        fig.tight_layout()
        _show(plot, fig)

    sentences = [w.HBox([controls[label] for label in labels[b * T:(b + 1) * T]]) for b in range(B)]
    return _assemble(controls, [*sentences, controls["kind"]], summary, plot, update)


# ---------------------------------------------------------------- lesson 8: the decoder, step by step


@dataclass(frozen=True)
class DecoderStepState:
    """Everything the decoder widget shows: one step of greedy generation by the trained reverser."""

    source: str
    step: int
    read: tuple[str, ...]  # the decoder's input at this step: <s> and the tokens written before it
    written: str  # the token it writes at this step ("" when the input was not valid)
    self_weights: np.ndarray  # (t + 1, t + 1), averaged over heads
    cross_weights: np.ndarray  # (t + 1, T_src), averaged over heads
    output: str  # everything generated after the last step
    message: str  # one plain HTML sentence: what the decoder does at this step, or what is wrong


def decoder_step_state(source: str, step: int) -> DecoderStepState:
    """Step `step` of the trained reverser generating the reverse of `source`, with a sentence about it."""
    from . import decoding  # here, not at the top: widgets.py is shared

    n = decoding.LENGTH
    source = source.strip() if isinstance(source, str) else source
    if not isinstance(source, str) or len(source) != n or not source.isascii() or not source.isdigit():
        return DecoderStepState(str(source), 0, (), "", np.zeros((0, 0)), np.zeros((0, 0)), "",
                                f"Type exactly {n} digits (0-9): the model was trained on strings of {n}.")
    if isinstance(step, bool) or not isinstance(step, (int, np.integer)) or not 0 <= step < n:
        return DecoderStepState(source, 0, (), "", np.zeros((0, 0)), np.zeros((0, 0)), "",
                                f"The step must be a whole number from 0 to {n - 1}.")
    trace = decoding.generation_trace(decoding.trained_reverser().model, source)
    s = trace[int(step)]
    cross = s.cross_weights.mean(dim=0).numpy()  # (h, t + 1, T_src) -> (t + 1, T_src)
    looked = int(cross[-1].argmax())
    output = "".join(x.written for x in trace)
    verdict = "the reverse, as it should be" if output == source[::-1] else f"not the reverse, {source[::-1]}"
    read = " ".join(html.escape(token) for token in s.read)
    message = (
        f"Step {s.step}: the decoder has read <b>{read}</b> and writes <b>{s.written}</b> "
        f"(probability {s.probability:.2f}). Its newest query looks most at source position {looked} "
        f"(the digit {source[looked]}, weight {cross[-1, looked]:.2f}). After all {n} steps it has written "
        f"<b>{output}</b>, {verdict}."
    )
    return DecoderStepState(source, s.step, s.read, s.written, s.self_weights.mean(dim=0).numpy(), cross, output,
                            message)


def decoder_explorer(source: str | None = None, step: int = 0) -> w.VBox:
    """Type 6 digits and move the step slider; see the decoder's masked self-attention and cross-attention
    at each step of generating their reverse. Lesson 8."""
    from . import decoding

    source = decoding.EXAMPLE if source is None else source
    controls = {
        "source": w.Text(value=source, description="source", continuous_update=False),
        "step": w.IntSlider(value=step, min=0, max=decoding.LENGTH - 1, description="step", continuous_update=False),
    }
    summary = w.HTML()
    plot = w.Output()

    def update(_change=None) -> None:
        state = decoder_step_state(controls["source"].value, controls["step"].value)
        summary.value = state.message
        if not state.written:
            with plot:
                plot.clear_output()
            return
        fig, (ax_self, ax_cross) = plt.subplots(1, 2, figsize=(8.6, 4.2))
        plots.decoder_step_axes(ax_self, ax_cross, state.source, state.step, state.read, state.written,
                                state.self_weights, state.cross_weights)
        fig.tight_layout()
        plots.colour_bar(ax_self.images[0], [ax_self, ax_cross], "weight (mean over heads)", shrink=0.8)
        _show(plot, fig)

    return _assemble(controls, [w.HBox(list(controls.values()))], summary, plot, update)


# ---------------------------------------------------------------- lesson 9: the date model


@dataclass(frozen=True)
class DateState:
    """Everything the date widget shows: the shipped model's answer and where it looked."""

    text: str  # the characters the model reads (cut at dates.MAX_SOURCE_LENGTH)
    answer: str  # "" when there is nothing to translate
    weights: np.ndarray  # (len(answer), len(text)): cross-attention of one decoder layer, averaged over heads
    message: str  # plain HTML: the answer and any warning about the input or the answer


def _is_real_date(answer: str) -> bool:
    import datetime as dt

    try:
        return len(answer) == 10 and dt.date.fromisoformat(answer) is not None
    except ValueError:
        return False


def date_state(text, layer: int = 2) -> DateState:
    """The shipped date model's translation of `text`, with the cross-attention of decoder layer `layer`
    (counted from 1) and a sentence about the input. Never raises for a string. Lesson 9."""
    from . import dates  # here, not at the top: widgets.py is shared

    empty = np.zeros((0, 0))
    if not isinstance(text, str) or not text.strip():
        return DateState("", "", empty, "Type a date, such as <b>sat 21 nov 26</b> or <b>21.11.2026</b>.")
    model = dates.pretrained()
    layers = len(model.decoder.layers)
    if isinstance(layer, bool) or not isinstance(layer, (int, np.integer)) or not 1 <= layer <= layers:
        return DateState(text, "", empty, f"The layer must be a whole number from 1 to {layers}.")
    notes = []
    if len(text) > dates.MAX_SOURCE_LENGTH:
        notes.append(f"Only the first {dates.MAX_SOURCE_LENGTH} of its {len(text)} characters are read; the "
                     f"longest date the model was trained on has {dates.LONGEST_TEXT}.")
        text = text[:dates.MAX_SOURCE_LENGTH]
    unknown = sorted(set(text) - set(dates.SOURCE_CHARS))
    if unknown:
        shown = ", ".join(html.escape(repr(c)) for c in unknown)
        notes.append(f"The model has never seen {shown}; it reads each as an unknown token.")
    if not any(c.isdigit() for c in text):
        notes.append("There is no digit in this text, so it cannot be a date; the answer is the model's best "
                     "guess, because a translation model always writes something.")
    translation = dates.translate_with_attention(model, text)
    answer = translation.answer
    if not _is_real_date(answer):
        notes.append(f"<b>{html.escape(answer) or 'nothing'}</b> is not a real date: the model maps characters "
                     "to characters, it does not know the calendar.")
    weights = translation.cross_weights[layer - 1].mean(dim=0).numpy()  # (h, T_out, T_src) -> (T_out, T_src)
    message = f"<b>{html.escape(text)}</b> &rarr; <b>{html.escape(answer)}</b>. " + " ".join(notes)
    return DateState(text, answer, weights, message)


def date_explorer(text: str = "sat 21 nov 26", layer: int = 2) -> w.VBox:
    """Type a date; see the shipped model's ISO translation and its cross-attention over your text. Lesson 9."""
    from . import dates

    controls = {
        "text": w.Text(value=text, description="date", continuous_update=False,
                       layout=w.Layout(width="420px")),
        "layer": w.Dropdown(options=[(f"decoder layer {i}", i) for i in
                                     range(1, len(dates.pretrained().decoder.layers) + 1)],
                            value=layer, description="attention of"),
    }
    summary = w.HTML()
    plot = w.Output()

    def update(_change=None) -> None:
        state = date_state(controls["text"].value, controls["layer"].value)
        summary.value = state.message
        if not state.answer:
            with plot:
                plot.clear_output()
            return
        def draw(ax) -> None:
            title = f"cross-attention, decoder layer {controls['layer'].value}"
            image = plots.date_attention_ax(ax, state.weights, state.text, state.answer, title)
            plots.colour_bar(image, ax, "weight")

        _show(plot, _one_axes_figure((0.25 * len(state.text) + 2.6, 3.6), draw))

    return _assemble(controls, [w.HBox(list(controls.values()))], summary, plot, update)


# ---------------------------------------------------------------- lesson 10: what each layer costs

COST_LENGTHS = tuple(2**i for i in range(4, 13))  # 16 ... 4096
COST_WIDTHS = (32, 64, 128, 256, 512)


@dataclass(frozen=True)
class CostState:
    """Everything the cost widget shows for one length T and width d_model. Lesson 10."""

    T: int
    d_model: int
    flops: dict  # layer kind -> predicted FLOPs of one forward pass ({} when the input was not valid)
    memory: dict  # layer kind -> predicted peak bytes
    seconds: dict  # layer kind -> measured median seconds on this machine ({} when not measured)
    measured_bytes: dict  # layer kind -> measured peak bytes
    message: str  # one plain HTML paragraph and table, or what is wrong with the input


_COST_MEASUREMENTS: dict = {}  # (kind, T, d_model) -> (seconds, bytes): a setting is measured once per session


def _cost_measurement(kind: str, T: int, d_model: int) -> tuple[float, int]:
    """(median seconds, peak bytes) of one forward pass of a `kind` layer on this machine, remembered."""
    import torch

    from . import cost  # here, not at the top: widgets.py is shared

    key = (kind, T, d_model)
    if key not in _COST_MEASUREMENTS:
        layer = cost.make_layer(kind, d_model)
        x = torch.randn(1, T, d_model, generator=torch.Generator().manual_seed(0))  # (B, T, d_model)
        repeats = 3 if cost.layer_flops(kind, T, d_model) < 2e9 else 1  # big settings take a second a run
        _COST_MEASUREMENTS[key] = (cost.median_seconds(lambda: layer(x), repeats=repeats),
                                   cost.peak_memory_bytes(lambda: layer(x)))
    return _COST_MEASUREMENTS[key]


def _size_text(nbytes: float) -> str:
    return f"{nbytes / 2**20:.3g} MiB" if nbytes >= 2**20 else f"{nbytes / 2**10:.3g} KiB"


def cost_state(T, d_model, measure: bool = True) -> CostState:
    """Predicted FLOPs and memory of each layer kind at (T, d_model), and, if `measure`, what this machine measures
    (one thread, batch 1, float32). Lesson 10."""
    from . import cost

    def bad(message: str) -> CostState:
        return CostState(0, 0, {}, {}, {}, {}, message)

    if isinstance(T, bool) or not isinstance(T, (int, np.integer)) or not 1 <= T <= COST_LENGTHS[-1]:
        return bad(f"T must be a whole number from 1 to {COST_LENGTHS[-1]}; got {html.escape(repr(T))}.")
    if isinstance(d_model, bool) or not isinstance(d_model, (int, np.integer)) or not 1 <= d_model <= 1024:
        return bad(f"d_model must be a whole number from 1 to 1024; got {html.escape(repr(d_model))}.")
    T, d_model = int(T), int(d_model)
    flops = {kind: cost.layer_flops(kind, T, d_model) for kind in cost.LAYER_KINDS}
    memory = {kind: cost.layer_memory_bytes(kind, T, d_model) for kind in cost.LAYER_KINDS}
    seconds, measured = {}, {}
    if measure:
        for kind in cost.LAYER_KINDS:
            seconds[kind], measured[kind] = _cost_measurement(kind, T, d_model)
    rows = []
    for kind in cost.LAYER_KINDS:
        cells = [kind, f"{flops[kind] / 1e9:.3g}", _size_text(memory[kind])]
        if measure:
            cells += [_size_text(measured[kind]), f"{seconds[kind] * 1e3:.3g} ms"]
        rows.append("<tr>" + "".join(f"<td style='padding:0 10px'>{cell}</td>" for cell in cells) + "</tr>")
    header = ["layer", "GFLOPs", "memory, predicted"] + (["memory, measured", "time, measured"] if measure else [])
    heaviest = max(flops, key=flops.get)
    message = (f"<b>T = {T}, d_model = {d_model}</b>: one forward pass of each layer, batch 1, float32"
               f"{', measured on this machine on one thread' if measure else ''}. Most FLOPs: <b>{heaviest}</b>."
               "<table><tr>" + "".join(f"<th style='padding:0 10px'>{h}</th>" for h in header) + "</tr>"
               + "".join(rows) + "</table>")
    return CostState(T, d_model, flops, memory, seconds, measured, message)


def cost_explorer(T: int = 1024, d_model: int = 64, measure: bool = True) -> w.VBox:
    """Choose T and d_model; see the predicted FLOPs and memory of self-attention, feed-forward, recurrent and
    convolution layers, next to the time and memory measured on this machine. Lesson 10."""
    controls = {
        "T": w.SelectionSlider(options=list(COST_LENGTHS), value=T, description="T", continuous_update=False),
        "d_model": w.Dropdown(options=list(COST_WIDTHS), value=d_model, description="d_model"),
        "measure": w.Checkbox(value=measure, description="measure on this machine"),
    }
    summary = w.HTML()
    plot = w.Output()

    def update(_change=None) -> None:
        state = cost_state(controls["T"].value, controls["d_model"].value, controls["measure"].value)
        summary.value = state.message
        fig, (ax_flops, ax_memory) = plt.subplots(1, 2, figsize=(10.5, 3.9))
        plots.cost_view(ax_flops, ax_memory, state)
        fig.tight_layout()
        _show(plot, fig)

    return _assemble(controls, [w.HBox(list(controls.values()))], summary, plot, update)
