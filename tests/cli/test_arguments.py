"""The options of skvq quantize (skvq.cli._arguments)."""

import re
import subprocess
import sys

import pytest
from cli_images import (
    colour_pixels,
    digest,
    gray_pixels,
    listing,
    save,
)

from skvq.cli import main

# ------------------------------------------------------------ usage errors


@pytest.mark.parametrize(
    "argv, message",
    [
        ([], "the following arguments are required: COMMAND"),
        (["squash", "a.png"], "invalid choice: 'squash'"),
        (
            ["quantize", "-n", "4", "--random-state", "-1", "-o", "o", "a.png"],
            "--random-state: must be an integer from 0 to 4294967295",
        ),
        (
            ["quantize", "--random-state", str(2**32), "-o", "o", "a.png"],
            "--random-state: must be an integer from 0 to 4294967295",
        ),
        (
            ["quantize", "--random-state", str(2**70), "-o", "o", "a.png"],
            "--random-state: must be an integer from 0 to 4294967295",
        ),
        (
            ["quantize", "--output", "x.png", "a.png", "b.png"],
            "--output names the file of one input, got 2 inputs",
        ),
        (["quantize", "-", "a.png"], "must be the only INPUT"),
        (["quantize", "--quality", "80-60", "a.png"], "must be MIN-MAX"),
        (["quantize", "--quality", "101", "a.png"], "must be MIN-MAX"),
        (["quantize", "--posterize", "5", "a.png"], "from 0 to 4"),
        (
            ["quantize", "--quality", "50-80", "--shared-codebook", "a.png"],
            "cannot be used with --shared-codebook",
        ),
        (["quantize", "--jobs", "0", "a.png"], "--jobs/-j: must be an integer"),
        (
            ["quantize", "-n", "4", "-o", "o"],
            "the following arguments are required: INPUT",
        ),
        (
            ["quantize", "-n", "1", "-o", "o", "a.png"],
            "must be an integer from 2 to 256 .* got '1'",
        ),
        (
            ["quantize", "-n", "257", "-o", "o", "a.png"],
            "a PNG palette holds at most 256 colours\\), got '257'",
        ),
        (["quantize", "-n", "four", "-o", "o", "a.png"], "got 'four'"),
        (
            ["quantize", "-n", "4", "-s", "median", "-o", "o", "a.png"],
            "invalid choice: 'median'",
        ),
        (
            ["quantize", "-n", "4", "-q", "-v", "-o", "o", "a.png"],
            "not allowed with argument",
        ),
        (
            ["quantize", "-n", "4", "-o", "o", "a.png", "b/a.jpg"],
            "a.png and b/a.jpg would both be written to o/a.png",
        ),
        (["quantize", "-n", "4", "-o", "o", "a.png", "a.png"], "would both be written"),
        (
            ["quantize", "-n", "4", "--dither", "1.5", "-o", "o", "a.png"],
            "--dither: must be a number from 0 .* to 1 .* got '1.5'",
        ),
        (
            ["quantize", "-n", "4", "--dither", "nan", "-o", "o", "a.png"],
            "got 'nan'",
        ),
        (
            ["quantize", "-n", "4", "--dither", ".5", "--no-dither", "-o", "o", "a"],
            "not allowed with argument",
        ),
        (
            ["quantize", "-n", "4", "--optimize", "7", "-o", "o", "a.png"],
            "--optimize: must be oxipng's level, an integer from 0 to 6, got '7'",
        ),
        (
            ["quantize", "-n", "4", "--optimize", "1", "--no-optimize", "-o", "o", "a"],
            "not allowed with argument",
        ),
        (
            ["quantize", "--color-space", "lab", "a.png"],
            r"--color-space: invalid choice: 'lab' \(choose from '?rgb'?, '?oklab'?\)",
        ),
        (
            ["quantize", "--color-space", "a.png"],
            "argument --color-space: invalid choice: 'a.png'",
        ),
    ],
)
def test_usage_errors_exit_2_with_argparse_message(
    tmp_path, capsys, monkeypatch, argv, message
):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: skvq")
    assert re.search(message, err)
    assert listing(tmp_path) == []


def test_output_that_would_replace_its_input_is_a_usage_error(tmp_path, capsys):
    source = save(tmp_path / "a.png", gray_pixels())
    before = digest(source)
    with pytest.raises(SystemExit) as exit_info:
        main(["quantize", str(source), "-n", "4", "-o", str(tmp_path), "--overwrite"])
    assert exit_info.value.code == 2
    assert f"the output for {source} would replace the input {source}" in (
        capsys.readouterr().err
    )
    assert digest(source) == before


def test_output_of_one_input_that_would_replace_another_is_a_usage_error(
    tmp_path, capsys
):
    (tmp_path / "o").mkdir()
    target = save(tmp_path / "o" / "a.png", gray_pixels())
    other = save(tmp_path / "a.jpg", colour_pixels())
    with pytest.raises(SystemExit) as exit_info:
        main(
            ["quantize", str(other), str(target), "-n", "4", "-o", str(tmp_path / "o")]
        )
    assert exit_info.value.code == 2
    assert listing(tmp_path / "o") == ["a.png"]


# ------------------------------------------------------------ help and bar


def test_python_m_skvq_help_lists_commands_with_examples():
    result = subprocess.run(
        [sys.executable, "-m", "skvq", "--help"], capture_output=True, text=True
    )
    assert result.returncode == 0
    assert result.stdout.startswith("usage: skvq")
    assert "quantize" in result.stdout
    assert "examples:" in result.stdout


def test_quantize_help_explains_every_option_with_examples(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["quantize", "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for option in [
        "--n-bins",
        "--strategy",
        "--gray",
        "--output-dir",
        "--shared-codebook",
        "--overwrite",
        "--random-state",
        "--dither",
        "--no-dither",
        "--optimize",
        "--no-optimize",
        "--quiet",
        "--verbose",
        "examples:",
        "exit status:",
    ]:
        assert option in text


def test_the_default_strength_is_the_cores():
    from skvq._quantize import DEFAULT_DITHER_STRENGTH
    from skvq.cli._arguments import DEFAULT_DITHER_STRENGTH as shown_in_help

    assert shown_in_help == DEFAULT_DITHER_STRENGTH


def test_the_default_colour_space_is_oklab_and_rgb_can_be_chosen():
    from skvq._color_space import COLOR_SPACES
    from skvq.cli._arguments import build_parser

    parser, _ = build_parser()
    assert parser.parse_args(["quantize", "a.png"]).color_space == "oklab"
    args = parser.parse_args(["quantize", "a.png", "--color-space", "rgb"])
    assert args.color_space == "rgb"
    for space in COLOR_SPACES:  # every space of the core is offered
        args = parser.parse_args(["quantize", "a.png", "--color-space", space])
        assert args.color_space == space


def test_help_says_what_each_colour_space_does(capsys):
    with pytest.raises(SystemExit):
        main(["quantize", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--color-space {rgb,oklab}" in text
    for phrase in ["'oklab' (Ottosson's perceptual space", "'rgb' (the file's own"]:
        assert phrase in text
    assert "gray images" in text and "translucent pixels" in text
    assert "default: oklab" in text


def test_help_says_where_options_differ_from_pngquant(capsys):
    with pytest.raises(SystemExit):
        main(["quantize", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "pngquant's -o is --output FILE" in text
    for option in [
        "--quality",
        "--skip-if-larger",
        "--ext",
        "--output",
        "--force",
        "--strip",
        "--posterize",
        "--map",
        "--jobs",
    ]:
        assert option in text
