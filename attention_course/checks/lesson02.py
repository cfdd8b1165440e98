"""Checks for lesson 02."""

__all__: list[str] = []
