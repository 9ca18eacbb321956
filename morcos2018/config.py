"""Experiment profiles: configuration as data.

A profile is a folder ``profiles/<name>/`` of TOML files, one per area (``images.toml``,
``text.toml``, ...). :func:`load_profile` reads them all into one mapping keyed by file stem, so
``load_profile("default")["images"]["epochs"]`` is the ``epochs`` key of ``default/images.toml``.

Profiles shipped with the package:

- ``smoke``: seconds per network, for the test suite.
- ``default``: the whole paper on offline data (Fashion-MNIST, fortunes), sized for a 2-core CPU.
- ``extended``: the default profile plus what needs more than its 90-minute budget on a 2-core
  CPU (Figure 4 at widths 1/4 to 1, each network trained to a training-accuracy criterion).
- ``paper``: CIFAR-10, PTB, WikiText-2 and the paper's sizes, for a GPU.

A path to a folder of TOML files works as a profile name too, for your own profiles.

A profile may build on another: its ``profile.toml`` says ``extends = "default"`` (a shipped name
or a folder), and each of its other TOML files then changes only the keys it sets, table by table
(``[widths]`` with ``multipliers = [...]`` replaces those and keeps the base's other keys of
``[widths]``).

Every profile is checked when it is loaded, for ``cca-reproduce --plan`` as for the notebooks,
against :data:`SCHEMA`: each file's keys must be known (a misspelt key is an error, not a key
silently taking the base's value), each value of the type and range its key allows (``epochs`` a
positive int below :data:`MOST_EPOCHS`, a learning rate above 0, ...), and the profile, its bases
included, must set every required key of ``cnn``, ``images``, ``text`` and ``toys``. Each error
is one ``ValueError`` line naming the file, the key and what it allows. Other TOML files of a
profile (areas of your own notebooks) are read unchecked.
"""

from __future__ import annotations

import json
import math
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from morcos2018.data import DATASET_SHAPES
from morcos2018.text import CORPUS_URLS

PROFILES_DIR = Path(__file__).parent / "profiles"


def available_profiles() -> list[str]:
    """Names of the profiles shipped with the package."""
    return sorted(p.name for p in PROFILES_DIR.iterdir() if p.is_dir() and any(p.glob("*.toml")))


def profile_dir(profile: str | Path) -> Path:
    """The folder holding a profile's TOML files, for a shipped profile name or a folder path."""
    candidate = Path(profile)
    if candidate.is_dir():
        return candidate
    shipped = PROFILES_DIR / str(profile)
    if shipped.is_dir():
        return shipped
    raise ValueError(
        f"profile {str(profile)!r} not found: expected one of {available_profiles()} "
        "or a folder of TOML files"
    )


def load_profile(profile: str | Path) -> dict[str, Any]:
    """Read every ``*.toml`` of a profile into ``{file stem: table}``, plus ``"name"``.

    Parameters
    ----------
    profile
        ``"smoke"``, ``"default"``, ``"extended"``, ``"paper"`` or a path to a folder of TOML
        files. A profile that extends another (``profile.toml``: ``extends = "default"``) is its
        base with its own keys merged in, table by table.

    Examples
    --------
    >>> load_profile("smoke")["name"]
    'smoke'
    >>> extended, default = load_profile("extended"), load_profile("default")
    >>> extended["images"]["widths"]["multipliers"][-1], extended["text"]["training"] == (
    ...     default["text"]["training"])
    (1.0, True)
    """
    tables: dict[str, Any] = {}
    lineage = _lineage(profile)
    for folder in reversed(lineage):
        for path in sorted(folder.glob("*.toml")):
            if path.name != PROFILE_FILE:
                table = read_toml(path)
                if path.stem in SCHEMA:
                    _check_values(path, table, SCHEMA[path.stem], prefix="")
                tables[path.stem] = _merged(tables.get(path.stem, {}), table)
    _check_complete(lineage, tables)
    tables["name"] = profile_dir(profile).name
    return tables


def read_toml(path: Path) -> dict[str, Any]:
    """One TOML file of a profile; a ``ValueError`` naming the file if it cannot be read or
    parsed."""
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"{path}: not valid TOML ({error}); fix that line") from error
    except OSError as error:
        raise ValueError(f"{path}: cannot read this profile file ({error.strerror}); check that "
                         "it exists and that you may read it") from error


def profile_files(profile: str | Path) -> list[Path]:
    """Every TOML file a profile reads, its bases' included (what its results depend on)."""
    return [path for folder in _lineage(profile) for path in sorted(folder.glob("*.toml"))]


#: The file of a profile folder that names the profile it builds on (``extends = "default"``).
PROFILE_FILE = "profile.toml"


def _lineage(profile: str | Path) -> list[Path]:
    """The profile's folder, then the folder of the profile it extends, and so on."""
    folders: list[Path] = []
    name: str | Path | None = profile
    while name is not None:
        folder = profile_dir(name).resolve()
        if folder in folders:
            chain = " -> ".join(f.name for f in (*folders, folder))
            raise ValueError(f"profile {str(profile)!r} extends itself ({chain}): fix `extends` "
                             f"in {PROFILE_FILE}")
        folders.append(folder)
        meta = folder / PROFILE_FILE
        if not meta.exists():
            break
        link = read_toml(meta)
        if set(link) - {"extends"}:
            raise ValueError(f"{meta}: unknown keys {sorted(set(link) - {'extends'})}; "
                             f"{PROFILE_FILE} takes only `extends` (a profile name or folder)")
        name = link.get("extends")
        if name is not None and not isinstance(name, str):
            raise ValueError(f"{meta}: `extends` must be a profile name or folder, got {name!r}")
        if isinstance(name, str) and not Path(name).is_absolute() and (folder / name).is_dir():
            name = folder / name  # a folder relative to the profile's own
    return folders


def _merged(base: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``changes`` applied: tables merged key by key, other values replaced."""
    merged = dict(base)
    for key, value in changes.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merged(merged[key], value)
        else:
            merged[key] = value
    return merged


# --------------------------------------------------------------------------- the schema


@dataclass(frozen=True)
class Value:
    """What a profile key may hold: ``allowed`` says it to a person, ``accepts`` checks it."""

    allowed: str
    accepts: Callable[[Any], bool]
    required: bool = True

    def optional(self) -> Value:
        return Value(self.allowed, self.accepts, required=False)


@dataclass(frozen=True)
class Table:
    """A TOML table of known keys; ``named``: a table of tables of that form under any name
    (``[models.lstm3]``)."""

    keys: Mapping[str, Value | Table]
    required: bool = True
    named: bool = False


#: The most epochs a profile may ask of a network (the paper trains 100; a typo such as
#: ``epochs = 1e9`` would otherwise train for ever).
MOST_EPOCHS = 10_000
#: Optimizers a profile may name (Keras's names).
OPTIMIZERS = ("adadelta", "adafactor", "adagrad", "adam", "adamax", "adamw", "ftrl", "lamb",
              "lion", "nadam", "rmsprop", "sgd")
#: Linkage methods of ``scipy.cluster.hierarchy.linkage``.
LINKAGES = ("average", "centroid", "complete", "median", "single", "ward", "weighted")


def integer(low: int, high: int) -> Value:
    """An int (not a bool, not a float) in ``low..high``."""
    return Value(f"an int in {low}..{high}", lambda value: isinstance(value, int)
                 and not isinstance(value, bool) and low <= value <= high)


def number(low: float, high: float, above: bool = False) -> Value:
    """A finite int or float in ``[low, high]``, or ``(low, high]`` if ``above``."""
    def accepts(value: Any) -> bool:
        return (isinstance(value, (int, float)) and not isinstance(value, bool)
                and math.isfinite(value) and (value > low if above else value >= low)
                and value <= high)
    return Value(f"a number in {'(' if above else '['}{low:g}, {high:g}]", accepts)


def one_of(*choices: Any) -> Value:
    return Value(f"one of {list(choices)}", lambda value: value in choices)


def list_of(item: Value, empty: bool = False) -> Value:
    """A list whose every element ``item`` accepts (non-empty unless ``empty``)."""
    return Value(f"a{'' if empty else ' non-empty'} list, each {item.allowed}",
                 lambda value: isinstance(value, list) and (empty or bool(value))
                 and all(item.accepts(element) for element in value))


TEXT = Value("a string", lambda value: isinstance(value, str))
FLAG = Value("true or false", lambda value: isinstance(value, bool))
EPOCHS = integer(1, MOST_EPOCHS)
COUNT = integer(1, 10**9)
SIZE = integer(0, 10**9)  # 0 = all (a subset size) or none
SEED = integer(0, 2**32 - 1)
LEARNING_RATE = number(0, 10, above=True)
WIDTH = number(0, 64, above=True)
FRACTION = number(0, 1, above=True)

#: Keys a figure family's table may override (:data:`morcos2018.models.FAMILY_OVERRIDES`).
FAMILY_VALUES = {"train_subset": SIZE, "subset_seed": SEED, "width": WIDTH,
              "learning_rate": LEARNING_RATE, "learning_rate_decay": FRACTION,
              "train_accuracy": number(0, 1), "validation_size": SIZE, "probe_size": COUNT,
              "jit_compile": FLAG}
_FAMILY = {key: value.optional() for key, value in FAMILY_VALUES.items()}

IMAGES = Table({
    **_FAMILY, "train_subset": SIZE, "width": WIDTH, "learning_rate": LEARNING_RATE,
    "dataset": one_of(*DATASET_SHAPES), "label_seed": SEED.optional(),
    "depth": integer(1, 100), "optimizer": one_of(*OPTIMIZERS).optional(),
    "batch_size": COUNT, "epochs": EPOCHS, "probe_seed": SEED.optional(),
    "groups": Table({**_FAMILY, "networks": COUNT, "epochs": EPOCHS,
                     "memorizing_epochs": EPOCHS,
                     "dose_response": list_of(integer(1, 10**9)).optional()}),
    "widths": Table({**_FAMILY, "multipliers": list_of(WIDTH), "networks": COUNT,
                     "epochs": EPOCHS, "filters": COUNT,
                     "criterion_accuracy": FRACTION.optional(),
                     "heldout_probe": COUNT.optional()}),
    "learning_rates": Table({**_FAMILY, "values": list_of(LEARNING_RATE), "networks": COUNT,
                             "epochs": EPOCHS, "layer": TEXT,
                             "equal_loss": number(0, 1e6, above=True).optional(),
                             "fixed_epochs": EPOCHS.optional()}),
    "dynamics": Table({"epochs": EPOCHS, "networks": COUNT}),
})

_OPTIMIZER = Table({
    "name": one_of(*OPTIMIZERS), "learning_rate": LEARNING_RATE,
    **{key: number(0, 1e6, above=True).optional()
       for key in ("clipnorm", "global_clipnorm", "clipvalue", "epsilon")},
    **{key: number(0, 1).optional() for key in ("beta_1", "beta_2", "momentum", "weight_decay")},
})
TEXT_AREA = Table({
    "corpus": Table({"name": one_of("fortunes", *CORPUS_URLS), "vocab_size": integer(3, 10**7),
                     "max_train_tokens": COUNT.optional(), "max_valid_tokens": COUNT.optional(),
                     "validation_fraction": FRACTION.optional(), "split_seed": SEED.optional()}),
    "training": Table({
        "epochs": EPOCHS, "checkpoints_per_epoch": integer(1, 1000).optional(),
        "batch_size": COUNT, "seq_len": COUNT, "optimizer": _OPTIMIZER,
        "data_phase": one_of("fixed", "random_offset").optional(),
        "schedule": Table({"name": one_of("cosine"), "final_fraction": number(0, 1)},
                          required=False),
    }),
    "models": Table({"layers": integer(1, 100), "width": COUNT,
                     "embedding_dim": COUNT.optional(), "dropout": number(0, 0.99).optional(),
                     "layer_norm": FLAG.optional(), "residual": FLAG.optional(),
                     "epochs": EPOCHS.optional()}, named=True),
    "convergence": Table({"models": list_of(TEXT), "seeds": list_of(SEED), "probe_windows": COUNT,
                          "probe_length": COUNT, "probe_context": SIZE,
                          "threshold": number(0, 1, above=True),
                          "references": list_of(integer(-MOST_EPOCHS, -1)),
                          "arm_final_fraction": number(0, 1).optional()}),
    "dynamics": Table({"model": TEXT, "seed": SEED, "layer": TEXT, "early_epoch": SIZE,
                       "mid_epoch": SIZE, "n_directions": COUNT}),
    "sequence": Table({"model": TEXT, "seed": SEED, "n_sequences": COUNT, "length": COUNT,
                       "repeat_length": COUNT, "repeat_starts": list_of(SIZE),
                       "chance_every": COUNT}),
})

TOYS = Table({
    "fig2": Table({"n_neurons": COUNT, "n_datapoints": COUNT, "noise_scale": number(0, 1e6),
                   "n_signals": list_of(COUNT), "repeats": COUNT}),
    "rnn": Table({"n_neurons": COUNT, "n_datapoints": COUNT, "n_steps": COUNT,
                  "beta": number(-1e6, 1e6), "init_scale": number(0, 1e6, above=True),
                  "seeds": COUNT}),
})

CNN = Table({
    "fig3": Table({"extra_layers": list_of(TEXT, empty=True), "late_layers": COUNT,
                   "memorizing_seed_offset": SIZE, "n_permutations": COUNT,
                   "svcca_keep": FRACTION}),
    "fig4": Table({"layer": TEXT, "filter_seed": SEED, "n_permutations": COUNT}),
    "fig5": Table({"linkage": one_of(*LINKAGES), "seed_offset": SIZE, "n_permutations": COUNT}),
    "fig1": Table({"layer": TEXT, "shown_epochs": list_of(SIZE, empty=True),
                   "early_epoch": SIZE, "direction_fraction": number(0, 0.5, above=True),
                   "accuracy_tolerance": number(0, 1), "unconverged_below": FRACTION}),
})

#: What each checked file of a profile holds, by file stem.
SCHEMA: dict[str, Table] = {"cnn": CNN, "images": IMAGES, "text": TEXT_AREA, "toys": TOYS}

#: What a notebook parameter may be set to with ``cca-reproduce -p NAME=VALUE`` (besides null,
#: the profile's value), the same rules as the profile keys it stands for. The batch's own
#: parameters (profile, figures_dir, results_dir) are set by the runner, not here.
PARAMETERS: dict[str, Value] = {
    "seeds": list_of(SEED), "seed": SEED, "epochs": EPOCHS, "networks": COUNT,
    "probe_size": COUNT, "layer": TEXT, "layers": list_of(TEXT), "widths": list_of(WIDTH),
    "filters": COUNT, "learning_rates": list_of(LEARNING_RATE), "n_permutations": COUNT,
    "model": TEXT, "models": list_of(TEXT), "threshold": number(0, 1, above=True),
    "beta": number(-1e6, 1e6), "svcca_keep": FRACTION,
}
#: Parameters every notebook has, which the batch runner sets itself.
BATCH_PARAMETERS = ("profile", "figures_dir", "results_dir")


def check_parameter(name: str, value: Any) -> None:
    """ValueError (one line, for ``-p``) unless ``value`` may be given to notebook parameter
    ``name``: null (the profile's value) or what :data:`PARAMETERS` allows."""
    spec = PARAMETERS.get(name)
    if value is None or spec is None or spec.accepts(value):
        return
    raise ValueError(
        f"-p {name}={_json(value)}: {name} must be {spec.allowed}, or null for the profile's "
        f"value (VALUE is JSON: e.g. -p seeds=[0,1] or -p epochs=3)"
    )


def _json(value: Any) -> str:
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)


def _check_values(path: Path, table: Mapping[str, Any], schema: Table, prefix: str) -> None:
    """Every key of one file's ``table`` known to ``schema``, every value one it accepts."""
    for key, value in table.items():
        name = f"{prefix}{key}"
        spec = schema.keys.get(key)
        if spec is None:
            raise ValueError(f"{path}: unknown key `{name}`; {_where(prefix)} takes "
                             f"{sorted(schema.keys)}. Check its spelling")
        if isinstance(spec, Value):
            if not spec.accepts(value):
                raise ValueError(f"{path}: `{name}` = {value!r} is not allowed; it must be "
                                 f"{spec.allowed}")
        elif not isinstance(value, Mapping):
            raise ValueError(f"{path}: `{name}` must be a table ([{name}]), got {value!r}")
        elif spec.named:
            for member, inner in value.items():
                if not isinstance(inner, Mapping):
                    raise ValueError(f"{path}: `{name}.{member}` must be a table "
                                     f"([{name}.{member}]), got {inner!r}")
                _check_values(path, inner, Table(spec.keys), f"{name}.{member}.")
        else:
            _check_values(path, value, spec, f"{name}.")


def _where(prefix: str) -> str:
    return f"[{prefix[:-1]}]" if prefix else "the file's top level"


def _check_complete(lineage: list[Path], tables: Mapping[str, Any]) -> None:
    """Every area of :data:`SCHEMA` present, with every required key, once the bases are merged."""
    folders = " or ".join(str(folder) for folder in lineage)
    for stem, schema in SCHEMA.items():
        if stem not in tables:
            raise ValueError(
                f"profile {lineage[0]} has no {stem}.toml (nor has a profile it extends); a "
                f"profile needs {', '.join(f'{s}.toml' for s in SCHEMA)}: copy them from "
                f"{PROFILES_DIR / 'default'} or set `extends = \"default\"` in {PROFILE_FILE}")
        missing = _missing(tables[stem], schema, prefix="")
        if missing:
            name, allowed = missing
            raise ValueError(f"{stem}.toml (in {folders}) lacks the key `{name}` ({allowed}); "
                             "add it, or extend a profile that sets it")


def _missing(table: Mapping[str, Any], schema: Table, prefix: str) -> tuple[str, str] | None:
    """The first required key of ``schema`` that ``table`` lacks, and what it allows."""
    for key, spec in schema.keys.items():
        name = f"{prefix}{key}"
        if key not in table:
            if spec.required:
                return name, spec.allowed if isinstance(spec, Value) else f"a table [{name}]"
            continue
        if isinstance(spec, Table):
            members = table[key].items() if spec.named else [(None, table[key])]
            for member, inner in members:
                inner_prefix = f"{name}.{member}." if member is not None else f"{name}."
                found = _missing(inner, Table(spec.keys), inner_prefix)
                if found:
                    return found
    return None
