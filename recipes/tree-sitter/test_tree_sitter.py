"""Tests of the tree-sitter recipe, in pytest-pyodide's style: each body runs inside Pyodide."""

from pytest_pyodide import run_in_pyodide


@run_in_pyodide(packages=["tree-sitter"])
def test_parser_without_language(selenium):
    """The C binding's types work; a parser with no language parses nothing."""
    import tree_sitter

    parser = tree_sitter.Parser()
    assert parser.language is None
