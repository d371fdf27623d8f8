"""The README's command line reference is the real ``--help`` of every command."""

from __future__ import annotations

from pathlib import Path

import pytest

from deepstep.cli import COMMANDS
from deepstep.cli import main as main_cli
from deepstep.cli.docs import END, START, help_text, main, reference, updated

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_reference_matches_help():
    text = README.read_text(encoding="utf-8")
    assert updated(text) == text, ("README.md's command line reference differs from --help: "
                                   "run python -m deepstep.cli.docs")


def test_reference_holds_every_command_and_its_flags():
    ref = reference()
    for command in COMMANDS:
        name = command.__name__.rsplit(".", 1)[-1]
        assert f"### deepstep {name}\n" in ref
        assert help_text([name]) in ref
    assert "--top-k K" in ref and "--input N" in ref and "--compare A B" in ref


def test_docs_main_rewrites_only_between_the_markers(tmp_path, capsys):
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n\nbefore\n{START}\nstale\n{END}\nafter\n")
    assert main([str(readme), "--check"]) == 1
    assert main([str(readme)]) == 0
    text = readme.read_text()
    assert text.startswith("# x\n\nbefore\n") and text.endswith(f"{END}\nafter\n")
    assert "stale" not in text and main([str(readme), "--check"]) == 0
    readme.write_text("no markers")
    with pytest.raises(ValueError, match="no generated command line reference"):
        main([str(readme)])


@pytest.mark.parametrize("command", ["predict", "evaluate", "report", "explain", "gradcheck",
                                     "runs"])
def test_help_states_the_default_of_every_optional_flag(command):
    """A flag that has a value when not given says which; the others are needed (--model),
    switches, or have no value unless given (--json, --compare, explain's sizes)."""
    import argparse

    from deepstep.cli.common import Parser

    subs = Parser(prog="deepstep").add_subparsers()
    module = next(c for c in COMMANDS if c.__name__.endswith(f".{command}"))
    parser = module.add_parser(subs)
    no_value = {"--model", "--json", "--compare", "--debug", "-h", "--help"}
    if command == "explain":
        no_value |= {"--layers", "--input", "--output"}  # given, or taken from --model
    for action in parser._actions:  # argparse keeps no public list of a parser's flags
        flags = set(action.option_strings)
        if not flags or flags & no_value or action.required:
            continue
        if isinstance(action, argparse._StoreTrueAction):
            continue
        assert "(default: " in (action.help or ""), (command, action.option_strings)



def test_readme_recipe_rules_are_the_recipe():
    from deepstep.cli.docs import RULES_END, RULES_START
    from deepstep.recipe import RULES, rules_table

    text = README.read_text(encoding="utf-8")
    block = text.split(RULES_START)[1].split(RULES_END)[0]
    assert block.strip() == rules_table()
    assert all(f"| {rule.condition} |" in block for rule in RULES)


def test_top_level_help_lists_every_command_beside_its_text(monkeypatch, capsys):
    import re

    monkeypatch.setenv("COLUMNS", "80")  # a terminal's width, where "gradcheck" wrapped
    assert main_cli(["--help"]) == 0
    text = capsys.readouterr().out
    for command in COMMANDS:
        name = command.__name__.rsplit(".", 1)[-1]
        assert re.search(rf"^    {name} +\S", text, re.M), name
