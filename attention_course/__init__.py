"""Attention, Step by Step: the pieces the lessons build, saved for reuse, plus the course's tooling.

Modules:
    attention   softmax and attention itself
    lookup      lesson 1's video catalogue and its hard and soft lookups
    scaling     lesson 2's measurements of why scores are divided by sqrt(d_k)
    self_attention  lesson 3's tokens, features and single-head self- and cross-attention
    positional  lesson 4's sinusoidal encoding, offset rotations, learned positions and its widget's state
    masking     lesson 5's padding and causal masks, and the torch mask conventions
    tiny_lm     lesson 5's tiny next-character model that cheats without a causal mask
    multihead   lesson 6's MultiHeadAttention, equal to torch.nn.MultiheadAttention
    conv_heads  lesson 6's multi-head attention layer that is exactly a 1-D convolution
    transformer lessons 7-8's encoder and decoder layers and stacks, equal to torch's
    normalization  lesson 7's LayerNorm and BatchNorm comparison and the norm-placement experiment
    decoding    lesson 8's shift_right, a toy reversal task, and greedy generation
    cost        lesson 10's measurements: time, peak memory, FLOPs, sequential steps and path length
    family      lesson 10's encoder-only, decoder-only and encoder-decoder wirings and their objectives
    checks      the exercise checks
    widgets     the interactive widgets (ipywidgets 8), one module per lesson (widgets/lessonNN.py)
    plots       the figures the lessons and widgets draw, one module per lesson (plots/lessonNN.py)
    notebooks   turns book/*.md into lessons/ and solutions/
    syllabus    what each lesson says about itself: time, objectives, exercises, points, questions
    guide       the instructor guide's generated tables and course plans
    grade       the grader's command line: python -m attention_course.grade
    grading     the grader: a fresh kernel per notebook, limits, the course's own checks
    nosolutions builds the book with every solution removed (make book-nosolutions)
    lesson_memory  measures each lesson's peak memory (make lesson-memory)
"""

__version__ = "0.1.0"
