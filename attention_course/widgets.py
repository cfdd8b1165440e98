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
        with plot:
            plot.clear_output(wait=True)
            fig, ax = plt.subplots(figsize=(6.5, 3.2))
            plots.weights_bar(ax, lookup.TITLES, state.weights, f"temperature {controls['temperature'].value:.2f}")
            fig.tight_layout()
            display(fig)
            plt.close(fig)

    for control in controls.values():
        control.observe(update, names="value")
    update()
    box = w.VBox([w.HBox(list(controls.values())), summary, plot])
    box.controls, box.summary = controls, summary
    return box


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
        with plot:
            plot.clear_output(wait=True)
            fig, ax = plt.subplots(figsize=(6.5, 3))
            label = "scaled by 1/√d_k" if state.scaled else "not scaled"
            plots.key_weights_bar(ax, state.weights, f"d_k = {state.d_k}, {label}: entropy {state.entropy:.2f} bits")
            fig.tight_layout()
            display(fig)
            plt.close(fig)

    for control in controls.values():
        control.observe(update, names="value")
    update()
    box = w.VBox([w.HBox(list(controls.values())), summary, plot])
    box.controls, box.summary = controls, summary
    return box


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
        with plot:
            plot.clear_output(wait=True)
            fig, ax = plt.subplots(figsize=(6.0, 2.6))
            plots.weights_bar(ax, list(state.tokens), state.weights,
                              f"{controls['token'].value!r} attends to ({controls['weights'].value} weights)")
            fig.tight_layout()
            display(fig)
            plt.close(fig)

    for control in controls.values():
        control.observe(update, names="value")
    update()
    box = w.VBox([w.HBox([controls["token"], controls["weights"]]),
                  w.HBox([controls["strength"], controls["seed"]]), summary, plot])
    box.controls, box.summary = controls, summary
    return box
