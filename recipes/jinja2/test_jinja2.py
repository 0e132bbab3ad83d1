"""Tests of the jinja2 recipe, in pytest-pyodide's style: each body runs inside Pyodide."""

from pytest_pyodide import run_in_pyodide


@run_in_pyodide(packages=["jinja2"])
def test_jinja2(selenium):
    """jinja2 works in Pyodide."""
    import jinja2, markupsafe
    env = jinja2.Environment(autoescape=True)
    html = env.from_string("<p>{{ name }}</p>").render(name="<emwheel>")
    assert html == "<p>&lt;emwheel&gt;</p>", html
    assert isinstance(env.from_string("{{ x }}").render(x=1), str)
