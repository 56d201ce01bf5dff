"""Gray images: skvq's scalar quantizer against ``KBinsDiscretizer``.

For each gray image (8-bit photographs and a 16-bit image) and number of
bins, each strategy of ``ImageVectorQuantizer`` is timed (fit + transform)
side by side with ``KBinsDiscretizer(strategy=..., subsample=None,
encode="ordinal")`` of the same strategy, and both are scored by the MSE of
their reconstruction (``inverse_transform``) against the image. The exact
minimum MSE, computed by the independent dynamic programme in
``optimal_levels.py``, shows whether ``strategy="kmeans"`` reaches it.

Run: ``python benchmarks/bench_gray.py [--smoke]``.
"""

import argparse
import warnings

import images
from measure import best_time, mse, peak_value, psnr
from optimal_levels import optimal_mse
from sklearn.preprocessing import KBinsDiscretizer
from tables import Table, Target, number, ratio, seconds

try:
    from skvq import ImageVectorQuantizer
except ImportError:  # lets the anchors run on a checkout without the estimator
    ImageVectorQuantizer = None

STRATEGIES = ("kmeans", "uniform", "quantile")
SPEEDUP_TARGET = 100


def kbins_fit_transform(image, n_bins, strategy):
    """What a scikit-learn user writes: one feature column of pixel values."""
    pixels = image.reshape(-1, 1)
    estimator = KBinsDiscretizer(
        n_bins=n_bins, strategy=strategy, subsample=None, encode="ordinal"
    )
    with warnings.catch_warnings():
        # quantile bins of repeated values collapse; KBins warns, we measure.
        warnings.simplefilter("ignore", UserWarning)
        return estimator, estimator.fit(pixels).transform(pixels)


def kbins_reconstruct(estimator, codes, image):
    return estimator.inverse_transform(codes).reshape(image.shape)


def skvq_fit_transform(image, n_bins, strategy):
    estimator = ImageVectorQuantizer(n_bins=n_bins, strategy=strategy)
    return estimator, estimator.fit(image).transform(image)


def skvq_reconstruct(estimator, codes, image):
    return estimator.inverse_transform(codes)


def measure(fit_transform, reconstruct, image, n_bins, strategy, repeat):
    """(seconds, MSE) of one method, or (None, None, error message)."""
    try:
        elapsed, (estimator, codes) = best_time(
            lambda: fit_transform(image, n_bins, strategy), repeat=repeat, budget=3.0
        )
        error = mse(image, reconstruct(estimator, codes, image))
    except Exception as exc:  # shown in the table rather than hiding the rest
        return None, None, f"{type(exc).__name__}: {exc}"[:60]
    return elapsed, error, ""


def run(smoke=False):
    """Measure; return (tables, targets)."""
    repeat = 1 if smoke else 15
    table = Table(
        "Gray images: fit + transform, skvq vs KBinsDiscretizer (same strategy)",
        [
            "image",
            "bins",
            "strategy",
            "KBins time",
            "skvq time",
            "speed-up",
            "KBins MSE",
            "skvq MSE",
            "skvq PSNR",
            "optimum MSE",
        ],
        note=(
            "MSE of inverse_transform(transform(X)) against X; PSNR in dB "
            "against the dtype's peak (255 or 65535). The optimum is the exact "
            "minimum MSE over all quantizers with that many levels."
        ),
    )
    targets = []
    failures = []
    for name, image in images.gray_images(smoke).items():
        bin_counts = (8,) if smoke or name != "raccoon" else (4, 8, 16)
        for n_bins in bin_counts:
            optimum = optimal_mse(image, n_bins)
            for strategy in STRATEGIES:
                kb_time, kb_mse, _ = measure(
                    kbins_fit_transform,
                    kbins_reconstruct,
                    image,
                    n_bins,
                    strategy,
                    repeat,
                )
                if ImageVectorQuantizer is None:
                    sk_time, sk_mse, failure = None, None, ""
                else:
                    sk_time, sk_mse, failure = measure(
                        skvq_fit_transform,
                        skvq_reconstruct,
                        image,
                        n_bins,
                        strategy,
                        repeat,
                    )
                if failure:
                    failures.append(f"{name}, {n_bins} bins, {strategy}: {failure}")
                table.add(
                    name,
                    n_bins,
                    strategy,
                    seconds(kb_time),
                    seconds(sk_time),
                    ratio(kb_time, sk_time),
                    number(kb_mse),
                    number(sk_mse),
                    number(None if sk_mse is None else psnr(sk_mse, peak_value(image))),
                    number(optimum) if strategy == "kmeans" else "",
                )
                if strategy == "kmeans" and n_bins == 8:
                    targets.append(
                        _exact_target(name, kb_time, sk_time, sk_mse, optimum)
                    )
    if ImageVectorQuantizer is None:
        table.note += " skvq is not importable here: its columns are n/a."
    if failures:
        table.note += " Failures: " + "; ".join(failures)
    return [table], targets


def _exact_target(name, kb_time, sk_time, sk_mse, optimum):
    speedup = kb_time / sk_time if sk_time else 0.0
    exact = sk_mse is not None and abs(sk_mse - optimum) <= 1e-9 * optimum
    return Target(
        f"gray exact, {name}, 8 bins",
        f">= {SPEEDUP_TARGET}x KBins kmeans ({seconds(kb_time)}), so <= "
        f"{seconds(kb_time / SPEEDUP_TARGET)}; MSE = optimum {optimum:.2f}",
        f"{seconds(sk_time)} ({speedup:.3g}x), MSE {number(sk_mse)}",
        speedup >= SPEEDUP_TARGET and exact,
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny images, 1 run")
    args = parser.parse_args()
    tables, _ = run(args.smoke)
    for table in tables:
        print(table.to_markdown())


if __name__ == "__main__":
    main()
