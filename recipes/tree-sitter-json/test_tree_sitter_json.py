"""Tests of the tree-sitter-json recipe, in pytest-pyodide's style: each body runs inside Pyodide."""

from pytest_pyodide import run_in_pyodide


@run_in_pyodide(packages=["tree-sitter-json"])
def test_tree_sitter_json(selenium):
    """An abi3 extension (cp39-abi3) used by the version-specific tree-sitter bindings."""
    import tree_sitter, tree_sitter_json
    parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_json.language()))
    tree = parser.parse(b'{"a": [1, true]}')
    assert tree.root_node.type == "document", tree.root_node
    assert not tree.root_node.has_error
    assert tree.root_node.children[0].type == "object"
