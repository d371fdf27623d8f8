"""``deepstep train``: resolve the layered settings, check where the run goes, train, print.

The work is :mod:`deepstep.training_run` (settings -> data, recipe, training, run folder)
over :mod:`deepstep.run_folder` (the partial folder renamed into place); this module parses
the flags, checks ``--out`` / ``--json`` before anything is loaded, names flags in errors,
and turns an interrupt into one line with the command that resumes the run.
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .. import run_folder as rf
from ..data.splits import TEST_FRACTION
from ..optim import get_optimizer
from ..recipe import PLAIN_GD_LR
from ..run_plan import VALIDATION_FRACTION
from .common import add_command, shown, typed, with_default
from .settings import (
    PARSERS,
    PRESETS,
    RECIPE_DEFAULTS,
    default_settings,
    read_config,
    resolve_settings,
    run_settings,
    shown_default,
)

#: Flags that may come with --resume: they do not change how the run trains.
RESUME_FLAGS = ("epochs", "iterations", "json")


def add_parser(subs: Any) -> argparse.ArgumentParser:
    """Declare ``train`` and its flags; every default shown comes from the settings (the
    recipe's base values for the settings the recipe provides)."""
    D = default_settings()
    course = PRESETS["course"]
    p = add_command(subs, "train", "Train a network; save the model, metrics and an HTML report.",
                    f"""\
  deepstep train                                  # bundled digits, the default recipe
  deepstep train --data breast_cancer --layers 32,16 --seeds 5
  deepstep train --data train_catvnoncat.h5 --test test_catvnoncat.h5 --preset course
  deepstep train --data images/ --image-size 32 --epochs 30 --lr 0.001 --out runs/cats
  deepstep train --data houses.csv --label price --task regression --early-stopping 10
  deepstep train --config run.toml --seed 3       # flags override the TOML file
  deepstep train --resume runs/.cats.partial      # continue an interrupted run

SRC is an h5 file, an image folder (one subfolder per class), a CSV file (label in the
last column unless --label), an MNIST IDX file or folder, or a bundled name: digits,
breast_cancer, iris, wine, diabetes. Without --test a stratified {TEST_FRACTION:.0%} of SRC
is held out with the seed.

Settings not given take the default recipe's values (deepstep.recipe; shown as the
defaults below), which may adapt to the data's shape: the line printed before training
gives every value used and which came from the recipe. Layers: defaults < --preset <
--config < flags.

The run is written in a hidden folder beside --out (.NAME.partial) and renamed to NAME
when complete. Ctrl-C or SIGTERM finishes the current batch, saves a checkpoint there and
prints the command that resumes it (exit status 130 / 143). With --seeds the seeds train
in turn; a resume skips those already finished.""")
    a = p.add_argument

    def setting(flag: str, key: str, text: str, default: Any, **kw: Any) -> None:
        a(flag, type=typed(PARSERS[key], key.replace("_", " ")), default=argparse.SUPPRESS,
          help=with_default(text, default), **kw)

    adam, momentum = get_optimizer("adam").hyper, get_optimizer("momentum").hyper
    g = p.add_argument_group("data")
    a = g.add_argument
    setting("--data", "data", "training data", f"the bundled {D['data']}", metavar="SRC")
    setting("--test", "test", "test data", f"a stratified {TEST_FRACTION:.0%} of --data",
            metavar="SRC")
    setting("--label", "label", "CSV label column: its header name or 0-based index",
            "the last column", metavar="COLUMN")
    setting("--image-size", "image_size", "image folders: resize every image to N x N pixels",
            shown_image_size(), metavar="N")
    setting("--task", "task", "auto (from the labels; the choice is printed), binary, "
            "multiclass or regression", D["task"])
    setting("--validation", "validation", "fraction of the training part held out for "
            "validation curves (0 = none: the model trains on all of it)",
            f"0, or {VALIDATION_FRACTION:g} with --early-stopping", metavar="X")
    g = p.add_argument_group("network")
    a = g.add_argument
    setting("--layers", "layers", "HIDDEN layer sizes, e.g. 20,7,5 (input and output sizes "
            "come from the data)", shown_default("layers"), metavar="N,N,...")
    setting("--hidden", "hidden", "hidden activation (relu, tanh, sigmoid, leaky_relu, ...; or "
            "one per layer)", shown_default("hidden"), metavar="ACT")
    setting("--output", "output", "output activation; auto is sigmoid / softmax / linear from "
            "the task", D["output"], metavar="ACT")
    setting("--init", "init", "he, xavier, course, course_app", shown_default("init"))
    setting("--dtype", "dtype", "float32 or float64", shown_default("dtype"))
    g = p.add_argument_group("training")
    a = g.add_argument
    setting("--optimizer", "optimizer", "adam, gd, momentum, rmsprop", shown_default("optimizer"))
    setting("--lr", "lr", "learning rate", f"{RECIPE_DEFAULTS['learning_rate']:g} for "
            f"{RECIPE_DEFAULTS['optimizer']}, {PLAIN_GD_LR:g} for gd and momentum",
            metavar="X")
    setting("--momentum", "momentum", "the momentum optimizer's beta (v = beta v + (1 - beta) "
            "dW)", momentum["beta"], metavar="BETA")
    setting("--beta1", "beta1", "Adam's first-moment decay", adam["beta1"], metavar="X")
    setting("--beta2", "beta2", "Adam's and RMSprop's second-moment decay", adam["beta2"],
            metavar="X")
    setting("--schedule", "schedule", "learning-rate schedule: constant, step, exponential, "
            "inverse_time, cosine", shown_default("schedule"))
    e = g.add_mutually_exclusive_group()
    e.add_argument("--epochs", metavar="N", type=typed(PARSERS["epochs"], "epochs"),
                   default=argparse.SUPPRESS,
                   help=with_default("passes over the training data (when resuming: extend "
                                     "the run to N)", shown_default("epochs")))
    e.add_argument("--iterations", metavar="N", type=typed(PARSERS["iterations"], "iterations"),
                   default=argparse.SUPPRESS,
                   help="the course's word for --epochs (of full-batch training)")
    setting("--batch-size", "batch_size", "mini-batch size, or 'full' for full-batch gradient "
            "descent", shown_default("batch_size") or "full", metavar="N")
    setting("--l2", "l2", "L2 strength lambda", shown_default("l2"), metavar="X")
    setting("--dropout", "dropout", "probability of dropping a hidden unit, in [0, 1)",
            shown_default("dropout"), metavar="X")
    setting("--clip-norm", "clip_norm", "clip the gradients to this global L2 norm",
            D["clip_norm"], metavar="X")
    setting("--early-stopping", "early_stopping", "stop when the validation loss has not "
            "improved for N epochs and keep the best epoch's weights (0 = off)",
            shown_default("early_stopping"), metavar="N")
    setting("--class-weight", "class_weight", "weigh each class's loss: 'balanced' (m / (k "
            "count)) or CLASS=W pairs, e.g. cat=2,non-cat=1", D["class_weight"], metavar="W")
    setting("--preprocess", "preprocess", "standardize, scale255 (divide by 255, as the course) "
            "or none", shown_default("preprocess"))
    setting("--seed", "seed", "random seed", D["seed"], metavar="N")
    setting("--seeds", "seeds", "train K seeds (seed, seed+1, ...) and report each, their "
            "mean and std", D["seeds"], metavar="K")
    setting("--preset", "preset", f"course: the course's application exactly "
            f"({shown(course['layers'])}, {course['optimizer']} {course['lr']:g}, "
            f"{course['epochs']} iterations)", D["preset"])
    g = p.add_argument_group("run folder")
    a = g.add_argument
    a("--config", metavar="TOML", help="read settings from a TOML file (the flag names as "
      "keys; a run's settings.toml works)")
    setting("--out", "out", "output folder (must not exist or be empty)", "runs/<date-time>-<4 "
            "hex>", metavar="DIR")
    a("--overwrite", action="store_true",
      help="replace an existing --out folder, once this run has completed")
    a("--resume", metavar="RUN_DIR", help="continue the interrupted run in RUN_DIR (the "
      "folder printed at the interrupt) with its own settings; only --epochs may change")
    setting("--json", "json", "also write the metrics to this JSON file", None, metavar="FILE")
    p.set_defaults(run=run)
    return p


def shown_image_size() -> int:
    """The image side used when ``--image-size`` is not given."""
    from ..run_plan import image_size_default

    return image_size_default()


# --- checks before anything is loaded -----------------------------------------------------------


def check_out(out: str | None, overwrite: bool) -> None:
    """Refuse an ``--out`` that this run cannot end in (ValueError naming the flag)."""
    if out is None:
        ok, base = rf.creatable(Path(rf.DEFAULT_ROOT) / "x")
        root = Path(rf.DEFAULT_ROOT)
        if root.exists() and not root.is_dir():
            raise ValueError(f"the default run folder {root}/ is a file here: give --out DIR")
        if not ok:
            raise PermissionError(f"cannot create the run folder under {root}/ (no permission "
                                  f"to write in {base}): give --out DIR")
        if overwrite:
            raise ValueError("--overwrite needs --out: a new default run folder has nothing "
                             "to replace")
        return
    here, target = Path.cwd().resolve(), Path(out).resolve()
    if here == target or target in here.parents:
        raise ValueError(f"--out {out} is the current folder or holds it: give a folder for "
                         "the run, e.g. runs/NAME")
    state, path = rf.inspect_out(out)
    if state == rf.NOT_A_FOLDER:
        if Path(os.path.abspath(path)) == Path(os.path.abspath(out)):
            raise ValueError(f"--out {out} is a file, not a folder: give a folder path")
        raise ValueError(f"--out {out}: {path} is a file, so the folder cannot be made there")
    if state == rf.UNWRITABLE:
        raise PermissionError(f"--out {out}: no permission to write in {path}")
    if state == rf.BUSY:
        raise ValueError(f"--out {out}: another deepstep run is writing it now ({path}); give "
                         "another folder")
    if state == rf.INTERRUPTED:
        raise ValueError(f"--out {out}: an interrupted run waits in {path}; continue it with "
                         f"deepstep train --resume {shlex.quote(str(path))}, or delete that "
                         "folder")
    if state == rf.FULL and not overwrite:
        raise ValueError(f"--out {out} already holds files: give a new folder, or add "
                         "--overwrite to replace it when this run completes")


def check_json(path: str | None, out: str | None) -> None:
    """Refuse a ``--json`` file that could not be written after training."""
    if path is None:
        return
    p = Path(path)
    if out is not None and Path(os.path.abspath(p)) == Path(os.path.abspath(out)):
        raise ValueError(f"--json {path} is the --out folder: give a file name")
    if p.is_dir():
        raise IsADirectoryError(f"--json {path} is a folder: give a file name")
    if p.exists():
        if not os.access(p, os.W_OK) or not os.access(p.parent, os.W_OK | os.X_OK):
            raise PermissionError(f"--json {path}: no permission to replace it")
        return
    ok, base = rf.creatable(p)
    if not base.is_dir():
        raise ValueError(f"--json {path}: {base} is a file, so the file cannot be made there")
    if not ok:
        raise PermissionError(f"--json {path}: no permission to write in {base}")


# --- the command ---------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> int:
    """Train with defaults < preset < ``--config`` < flags (or ``--resume`` a run)."""
    flags = {k: v for k, v in vars(args).items() if k in PARSERS}
    command = shlex.join(["deepstep", *getattr(args, "argv", sys.argv[1:])])
    if args.resume is not None:
        return resume(args, flags, command)
    config = read_config(args.config) if args.config else {}
    settings = resolve_settings(flags, config)
    check_out(settings["out"], args.overwrite)
    check_json(settings["json"], settings["out"])

    def create() -> rf.RunFolder:
        try:
            return rf.RunFolder.create(settings["out"], overwrite=args.overwrite)
        except FileExistsError:
            raise ValueError(f"--out {settings['out']}: another deepstep run started writing it "
                             "while this one loaded its data; give another folder") from None

    return execute(run_settings(settings), create, command, settings["json"], resumed=False)


def resume(args: argparse.Namespace, flags: Mapping[str, Any], command: str) -> int:
    """Continue the interrupted run in ``args.resume`` with its own settings."""
    others = [k for k in flags if k not in RESUME_FLAGS]
    others += [k for k in ("config", "overwrite") if getattr(args, k)]
    if others:
        flag = "--" + others[0].replace("_", "-")
        raise ValueError(f"--resume continues a run with the settings it started with; {flag} "
                         "would change them: leave it out (only --epochs may extend the run)")
    partial = locate(args.resume)
    toml = partial / rf.SETTINGS_FILE
    if not toml.is_file():
        raise ValueError(f"{partial} has no {rf.SETTINGS_FILE}: the run stopped before "
                         "training began; delete the folder and start the run again")
    settings = run_settings(resolve_settings({}, read_config(toml)))
    epochs = flags.get("epochs", flags.get("iterations"))
    if epochs is not None:
        if epochs < settings["epochs"]:
            raise ValueError(f"--epochs {epochs} would shorten the run, which trains "
                             f"{settings['epochs']} epochs: --epochs can only extend it")
        settings["epochs"] = epochs
    check_json(flags.get("json"), None)
    if rf.in_use(partial):
        raise ValueError(f"--resume {args.resume}: {partial} is in use by another deepstep "
                         "process (still training?)")
    overwrite = "--overwrite" in _first_command(partial)

    def reopen() -> rf.RunFolder:
        try:
            folder = rf.RunFolder.reopen(partial)
        except BlockingIOError:
            raise ValueError(f"{partial} is in use by another deepstep process (still "
                             "training?)") from None
        folder.overwrite = overwrite
        return folder

    from ..training_run import recipe_notes

    return execute(settings, reopen, command, flags.get("json"), resumed=True,
                   from_recipe=recipe_notes(toml))


def locate(run_dir: str) -> Path:
    """The partial folder of the interrupted run named by ``--resume`` (its own path, as the
    interrupt printed it, or the final name it would get)."""
    p = Path(run_dir)
    if rf.final_path(p) is not None and p.is_dir():
        return p
    if rf.partial_path(p).is_dir():
        return rf.partial_path(p)
    if p.is_dir() and (p / rf.METRICS_FILE).exists():
        raise ValueError(f"--resume {run_dir}: that run completed, there is nothing to resume; "
                         f"to train longer start a new run, e.g. with --config "
                         f"{shlex.quote(str(p / rf.SETTINGS_FILE))} --epochs N")
    if not p.exists():
        raise FileNotFoundError(f"--resume {run_dir}: no such folder")
    raise ValueError(f"--resume {run_dir} is not the folder of an interrupted run (one like "
                     "runs/.NAME.partial, as printed at the interrupt)")


def _first_command(partial: Path) -> list[str]:
    try:
        line = (partial / rf.COMMAND_FILE).read_text(encoding="utf-8").splitlines()[0]
        return shlex.split(line)
    except (OSError, IndexError, ValueError):
        return []


def execute(settings: dict[str, Any], make_folder: Any, command: str, json_path: str | None,
            *, resumed: bool, from_recipe: list[str] | None = None) -> int:
    """Load, resolve, check the memory, then train into the folder ``make_folder()`` gives;
    report an interrupt with the resume command. ``from_recipe``: the settings a resumed
    run's first start took from the recipe (its settings.toml hold them as values)."""
    from .. import training_run

    folder: rf.RunFolder | None = None
    with sigterm_as_interrupt():
        try:
            plan = training_run.prepare(settings)
            if from_recipe:
                plan.from_recipe = list(from_recipe)
            for note in plan.splits.notes:
                print(note)
            print(plan.task.message("--task "))
            print(training_run.describe(plan))
            training_run.check_memory(plan)
            folder = make_folder()
            try:
                _, out = training_run.train(plan, folder, print, command=command,
                                                  resumed=resumed, metrics_json=json_path)
            except KeyboardInterrupt:
                folder.release()
                raise
            except BaseException:
                if resumed or folder.complete:  # a run to resume, or a finished one
                    folder.release()
                else:
                    folder.discard()
                raise
        except training_run.SettingsError as e:
            raise ValueError(f"--{e.key.replace('_', '-')}: {e}") from None
        except MemoryError as e:
            raise ValueError(f"out of memory: {e or 'an allocation failed'}; use smaller "
                             "--layers or --batch-size, or less data") from None
        except KeyboardInterrupt as e:
            signum = getattr(e, "signum", None) or signal.SIGINT
            print(interrupt_line(e, signum, folder), file=sys.stderr)
            return 128 + int(signum)
    print(f"saved to {out}: {', '.join(sorted(p.name for p in Path(out).iterdir()))}")
    if json_path:
        print(f"metrics written to {json_path}")
    return 0


def interrupt_line(e: BaseException, signum: int, folder: rf.RunFolder | None) -> str:
    """The one line printed when a signal stops the command."""
    name = signal.Signals(signum).name
    if folder is None:
        return f"interrupted by {name} before training began; nothing was written"
    where = ""
    if getattr(e, "epoch", None) is not None:
        where = f" during epoch {e.epoch + 1} (step {e.step})"  # type: ignore[attr-defined]
    saved = "checkpoint saved" if (folder / rf.CHECKPOINT_FILE).exists() else "progress saved"
    return (f"interrupted by {name}{where}, {saved}; resume with: deepstep train --resume "
            f"{shlex.quote(str(folder.partial))}")


class Terminated(KeyboardInterrupt):
    """SIGTERM outside the training loop (where the loop's own handler does not run)."""

    signum = signal.SIGTERM


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Make SIGTERM stop the command like Ctrl-C (a clean exit, the run folder kept or
    removed), instead of killing it; the training loop installs its own handler inside."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        raise Terminated

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
