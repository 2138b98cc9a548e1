from esdemo.environment import Requirement, check_environment, requirements


def test_requirements_come_from_the_package_metadata():
    names = [r.name for r in requirements()]
    assert names[0] == "python" and "duckdb" in names and "ipywidgets" in names
    assert "nbval" not in names and "nbval" in [r.name for r in requirements(include_test=True)]


def test_version_comparison_is_numeric_not_textual():
    assert Requirement("duckdb", "2.0", "10.1").ok
    assert not Requirement("duckdb", "2.0", "1.10.3").ok
    assert not Requirement("duckdb", "2.0", None).ok
    assert "not installed" in Requirement("x", "1.0", None).describe()
    assert "too old" in Requirement("x", "2.0", "1.9").describe()


def test_this_environment_is_ready(capsys):
    assert check_environment()
    assert "Ready" in capsys.readouterr().out
