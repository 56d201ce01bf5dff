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

Run: ``python benchmarks/bench_fixed_cost.py [--smoke]``.
"""

import argparse
import warnings

import images
from measure import best_time
from sklearn.preprocessing import KBinsDiscretizer
from sklearn.utils.validation import validate_data
from tables import Table, ratio, seconds

try:
    from skvq import ImageVectorQuantizer
except ImportError:  # lets the anchors run on a checkout without the estimator
    ImageVectorQuantizer = None

N_BINS = 8
SIZE = 100


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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="3 repeats")
    args = parser.parse_args()
    tables, _ = run(args.smoke)
    for table in tables:
        print(table.to_markdown())


if __name__ == "__main__":
    main()
