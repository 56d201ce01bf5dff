"""Fixed cost: fit and transform of a small gray image, next to the cost of
scikit-learn's input validation alone.

On a 100 x 100 uint8 image (a crop of gray china.jpg) the pixel work is a
few microseconds, so the time of ``ImageVectorQuantizer(n_bins=8).fit`` and
``.transform`` is almost all fixed cost: parameter and input validation,
the codebook from the histogram, Python calls. It is shown next to
``sklearn.utils.validation.validate_data`` alone on the same image (with
``reset=True`` as in a fit, ``reset=False`` as in a transform), which every
scikit-learn estimator pays, and next to ``KBinsDiscretizer(n_bins=8,
strategy="kmeans", subsample=None)`` on the same pixels as one column.

A second table times ``fit_transform`` at 8 bins of a 300 x 400 crop against
its floor: ``np.bincount`` of the pixels (the histogram a fit needs),
``np.take`` of a 256-entry table (the codes), and one ``validate_data``
(the target: at most 1.5x). ``fit(X).transform(X)`` is shown beside it,
for information: it validates X twice, the floor once.

Run: ``python benchmarks/bench_fixed_cost.py [--smoke]``.
"""

import argparse
import warnings

import images
import numpy as np
from measure import best_time
from sklearn.preprocessing import KBinsDiscretizer
from sklearn.utils.validation import validate_data
from tables import Table, Target, ratio, seconds

try:
    from skvq import ImageVectorQuantizer
except ImportError:  # lets the anchors run on a checkout without the estimator
    ImageVectorQuantizer = None

N_BINS = 8
SIZE = 100
FLOOR_SHAPE = (300, 400)
FLOOR_TARGET = 1.5


def small_image():
    return images.sample_image_gray("china.jpg")[:SIZE, :SIZE].copy()


def _kbins():
    return KBinsDiscretizer(
        n_bins=N_BINS, strategy="kmeans", subsample=None, encode="ordinal"
    )


def measure(image, repeat):
    """Best times of each step (seconds; None where skvq is missing)."""
    column = image.reshape(-1, 1)
    times = {}
    budget = 5.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # KBins' collapsed bins
        times["kbins fit"], kbins = best_time(
            lambda: _kbins().fit(column), repeat=repeat, budget=budget
        )
        times["kbins transform"], _ = best_time(
            lambda: kbins.transform(column), repeat=repeat, budget=budget
        )
    if ImageVectorQuantizer is None:
        return times
    fitted = ImageVectorQuantizer(n_bins=N_BINS).fit(image)
    times["validate fit"], _ = best_time(
        lambda: validate_data(
            ImageVectorQuantizer(n_bins=N_BINS), image, reset=True, dtype="numeric"
        ),
        repeat=repeat,
        budget=budget,
    )
    times["validate transform"], _ = best_time(
        lambda: validate_data(fitted, image, reset=False, dtype="numeric"),
        repeat=repeat,
        budget=budget,
    )
    times["skvq fit"], _ = best_time(
        lambda: ImageVectorQuantizer(n_bins=N_BINS).fit(image),
        repeat=repeat,
        budget=budget,
    )
    times["skvq transform"], _ = best_time(
        lambda: fitted.transform(image), repeat=repeat, budget=budget
    )
    return times


def run(smoke=False):
    """Measure; return (tables, targets)."""
    repeat = 3 if smoke else 2000
    image = small_image()
    times = measure(image, repeat)
    table = Table(
        f"Fixed cost: {SIZE} x {SIZE} uint8 gray image, {N_BINS} bins",
        [
            "step",
            "skvq",
            "validate_data alone",
            "skvq / validate_data",
            "skvq beyond validate_data",
            "KBins",
            "speed-up over KBins",
        ],
        note=(
            f"Best of up to {repeat} calls each. validate_data is scikit-learn's "
            "input validation (reset=True for fit, reset=False for transform), "
            "which skvq calls once per fit and per transform; KBins is "
            f"KBinsDiscretizer(n_bins={N_BINS}, strategy='kmeans', "
            "subsample=None) on the same pixels as one column."
        ),
    )
    for step in ("fit", "transform"):
        ours = times.get(f"skvq {step}")
        validation = times.get(f"validate {step}")
        beyond = None if ours is None else ours - validation
        table.add(
            step,
            seconds(ours),
            seconds(validation),
            ratio(ours, validation),
            seconds(beyond),
            seconds(times[f"kbins {step}"]),
            ratio(times[f"kbins {step}"], ours),
        )
    if ImageVectorQuantizer is None:
        table.note += " skvq is not importable here: its columns are n/a."
        return [table], []
    floor_table, targets = against_floor(repeat)
    return [table, floor_table], targets


def against_floor(repeat):
    """fit_transform of a 300 x 400 crop against bincount + take + one
    validate_data."""
    rows, cols = FLOOR_SHAPE
    image = images.sample_image_gray("china.jpg")[:rows, :cols].copy()
    table_of_codes = (np.arange(256) * N_BINS // 256).astype(np.uint8)

    def floor():
        validate_data(
            ImageVectorQuantizer(n_bins=N_BINS), image, reset=True, dtype="numeric"
        )
        np.bincount(image.reshape(-1), minlength=256)
        return np.take(table_of_codes, image)

    ours, _ = best_time(
        lambda: ImageVectorQuantizer(n_bins=N_BINS).fit_transform(image),
        repeat=repeat,
        budget=5.0,
    )
    apart, _ = best_time(
        lambda: ImageVectorQuantizer(n_bins=N_BINS).fit(image).transform(image),
        repeat=repeat,
        budget=5.0,
    )
    anchor, _ = best_time(floor, repeat=repeat, budget=5.0)
    table = Table(
        f"Fixed cost: fit_transform of a {rows} x {cols} uint8 gray image, "
        f"{N_BINS} bins, against its floor",
        ["step", "time", "/ floor"],
        note=(
            f"Best of up to {repeat} calls each. The floor is np.bincount of the "
            "pixels + np.take of a 256-entry table + one validate_data."
        ),
    )
    table.add("skvq fit_transform", seconds(ours), f"{ours / anchor:.2f}x")
    table.add(
        "skvq fit, then transform (validates twice)",
        seconds(apart),
        f"{apart / anchor:.2f}x",
    )
    table.add("floor", seconds(anchor), "1x")
    target = Target(
        f"gray {N_BINS} levels, {rows} x {cols}: fit + transform",
        f"<= {FLOOR_TARGET:g}x the floor ({seconds(anchor)})",
        f"{seconds(ours)} ({ours / anchor:.2f}x)",
        ours / anchor <= FLOOR_TARGET,
    )
    return table, [target]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="3 repeats")
    args = parser.parse_args()
    tables, _ = run(args.smoke)
    for table in tables:
        print(table.to_markdown())


if __name__ == "__main__":
    main()
