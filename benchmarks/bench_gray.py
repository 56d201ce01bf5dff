"""Gray images: skvq's scalar quantizer against ``KBinsDiscretizer``.

For each gray image (8-bit photographs and a 16-bit image) and number of
bins, each strategy of ``ImageVectorQuantizer`` is timed (fit + transform)
side by side with ``KBinsDiscretizer(strategy=..., subsample=None,
encode="ordinal")`` of the same strategy, and both are scored by the MSE of
their reconstruction (``inverse_transform``) against the image. The exact
minimum MSE, computed by the independent dynamic programme in
``optimal_levels.py``, shows whether ``strategy="kmeans"`` reaches it.

Two more tables: skvq's whole 16-bit ``fit`` (from the image, on one thread
and on the default threads) against Ckmeans.1d.dp (PyPI ``ckwrap``, compiled
C++, one thread) on the precomputed histogram at 2, 4, 8, 64 and 256 bins,
runs alternated and medians reported, with the SSE of each; and ``n_bins``
4096 and 65535 on an image holding all 65,536 uint16 values (time, peak
extra memory, and for 65535 the exact optimum, which merges the one
adjacent pair of smallest cost).

Run: ``python benchmarks/bench_gray.py [--smoke]``.
"""

import argparse
import gc
import time
import warnings
from contextlib import nullcontext

import images
import numpy as np
from measure import best_time, mse, peak_extra_memory, peak_value, psnr
from optimal_levels import optimal_mse
from sklearn.preprocessing import KBinsDiscretizer
from tables import Table, Target, megabytes, number, ratio, seconds
from threadpoolctl import threadpool_limits

try:
    from skvq import ImageVectorQuantizer
except ImportError:  # lets the anchors run on a checkout without the estimator
    ImageVectorQuantizer = None

try:
    import ckwrap
except ImportError:  # the benchmark extra installs it
    ckwrap = None
try:
    import kmeans1d
except ImportError:  # the benchmark extra installs it
    kmeans1d = None

STRATEGIES = ("kmeans", "uniform", "quantile")
SPEEDUP_TARGET = 100
SIXTEEN_BIT_BINS = (2, 4, 8, 64, 256)
# kmeans1d takes no weights, so it runs on every pixel: 13 s at 64 bins.
KMEANS1D_MAX_BINS = 8
LARGE_BINS = (4096, 65535)
LARGE_LIMITS = (10.0, 1 << 30)  # seconds, bytes


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
    tables = [table]
    if ImageVectorQuantizer is not None:
        sixteen, sixteen_targets = _against_ckmeans(smoke, repeat)
        large, large_targets = _large_n_bins(smoke)
        tables += [sixteen, large]
        targets += sixteen_targets + large_targets
    return tables, targets


def _partition_sse(values, weights, labels):
    """SSE of a partition of weighted values, each cluster about its mean."""
    n = labels.max() + 1
    total = np.bincount(labels, weights, n)
    mean = np.bincount(labels, weights * values, n) / total
    return float(np.sum(weights * (values - mean[labels]) ** 2))


def _alternating_medians(funcs, repeat, budget=3.0):
    """Median wall time of each of ``funcs`` and its last result, the calls
    alternated (one of each per round) so that a load from other processes
    falls on all of them alike; rounds stop once ``budget`` seconds are
    spent (at least one). Each entry is ``(context, func)``: ``func`` is
    timed inside ``context()``, whose own cost is not timed (entering
    ``threadpool_limits`` takes milliseconds)."""
    times = [[] for _ in funcs]
    results = [None] * len(funcs)
    spent = 0.0
    collecting = gc.isenabled()
    for _ in range(max(1, repeat)):
        for index, (context, func) in enumerate(funcs):
            results[index] = None
            with context():
                gc.disable()
                try:
                    start = time.perf_counter()
                    results[index] = func()
                    elapsed = time.perf_counter() - start
                finally:
                    if collecting:
                        gc.enable()
            times[index].append(elapsed)
            spent += elapsed
        if spent > budget:
            break
    return [float(np.median(t)) for t in times], results


def _one_thread():
    return threadpool_limits(limits=1)


def _against_ckmeans(smoke, repeat):
    """skvq's 16-bit fit from the image against ckwrap on the histogram."""
    image = images.raccoon_gray_16bit()
    if smoke:
        image = image[:64, :64]
    pixels = image.reshape(-1, 1)
    values, weights = np.unique(image, return_counts=True)
    values, weights = values.astype(np.float64), weights.astype(np.float64)
    table = Table(
        "16-bit exact k-means: skvq's whole fit against Ckmeans.1d.dp",
        [
            "bins",
            "Ckmeans.1d.dp time",
            "kmeans1d time",
            "skvq fit time, 1 thread",
            "skvq fit time",
            "speed-up over Ckmeans.1d.dp, 1 thread",
            "speed-up over Ckmeans.1d.dp",
            "Ckmeans.1d.dp SSE",
            "kmeans1d SSE",
            "skvq SSE",
        ],
        note=(
            f"The 16-bit raccoon ({values.size:,} distinct values). "
            "Ckmeans.1d.dp (ckwrap.ckmeans, compiled C++) runs on the "
            "precomputed histogram (values and counts), on one thread; "
            "skvq's time is its whole fit from the image, histogram "
            "included, under threadpool_limits(1) and on the default "
            "threads. The three are alternated, and the times are medians; "
            "the target is on one thread. kmeans1d (also "
            "exact, compiled) takes no weights, so it runs on all the "
            f"pixels, at up to {KMEANS1D_MAX_BINS} bins only (64 took 13 s). "
            "The SSEs are recomputed here from each one's partition."
        ),
    )
    targets = []
    flat = pixels[:, 0].astype(np.float64)
    for n_bins in SIXTEEN_BIT_BINS:
        runs = [
            (_one_thread, lambda k=n_bins: ImageVectorQuantizer(k).fit(pixels)),
            (nullcontext, lambda k=n_bins: ImageVectorQuantizer(k).fit(pixels)),
        ]
        if ckwrap is not None:
            ckmeans = lambda k=n_bins: ckwrap.ckmeans(values, k, weights=weights)  # noqa: E731
            runs.append((nullcontext, ckmeans))
        times, results = _alternating_medians(runs, 2 * repeat + 1)
        (sk1_time, sk_time), (_, quantizer) = times[:2], results[:2]
        ck_time = ck_sse = None
        if ckwrap is not None:
            ck_time = times[2]
            ck_sse = _partition_sse(values, weights, np.asarray(results[2].labels))
        k1_time = k1_sse = None
        if kmeans1d is not None and n_bins <= KMEANS1D_MAX_BINS:
            k1_time, (clusters, _) = best_time(
                lambda k=n_bins: kmeans1d.cluster(flat, k), repeat=repeat, budget=3.0
            )
            k1_sse = _partition_sse(flat, np.ones(flat.size), np.asarray(clusters))
        labels = quantizer.transform(values[:, None])[:, 0].astype(np.intp)
        sk_sse = _partition_sse(values, weights, labels)
        table.add(
            n_bins,
            seconds(ck_time),
            seconds(k1_time),
            seconds(sk1_time),
            seconds(sk_time),
            ratio(ck_time, sk1_time),
            ratio(ck_time, sk_time),
            f"{ck_sse:.6g}" if ck_sse is not None else "n/a",
            f"{k1_sse:.6g}" if k1_sse is not None else "n/a",
            f"{sk_sse:.6g}",
        )
        equal = ck_sse is None or sk_sse <= ck_sse * (1 + 1e-9)
        targets.append(
            Target(
                f"16-bit exact, {n_bins} bins",
                "skvq's fit on one thread faster than Ckmeans.1d.dp on the "
                "histogram, SSE no higher",
                f"{seconds(sk1_time)} vs {seconds(ck_time)} "
                f"({ratio(ck_time, sk1_time)}), SSE {'equal' if equal else 'higher'}",
                ck_time is not None and sk1_time < ck_time and equal,
            )
        )
    return table, targets


def _large_n_bins(smoke):
    """n_bins 4096 and 65535 on every uint16 value."""
    rng = np.random.default_rng(0)
    extra = rng.integers(0, 1 << 16, 10_000 if smoke else 1_000_000)
    pixels = np.r_[np.arange(1 << 16), extra].astype(np.uint16)[:, None]
    counts = np.bincount(pixels[:, 0], minlength=1 << 16).astype(np.float64)
    cheapest_merge = float(
        np.min(counts[:-1] * counts[1:] / (counts[:-1] + counts[1:]))
    )
    table = Table(
        "Many levels: all 65,536 uint16 values",
        [
            "bins",
            "fit time",
            "peak extra memory (traced)",
            "SSE",
            "optimum SSE",
        ],
        note=(
            f"{pixels.shape[0]:,} pixels holding every uint16 value. For "
            "65535 bins the optimum merges the one adjacent pair of "
            "smallest cost $n_v n_{v+1} / (n_v + n_{v+1})$, computed here."
        ),
    )
    targets = []
    for n_bins in LARGE_BINS:
        traced, _, elapsed, quantizer = peak_extra_memory(
            lambda k=n_bins: ImageVectorQuantizer(k).fit(pixels)
        )
        sse = -quantizer.score(pixels) * pixels.shape[0]
        optimum = cheapest_merge if n_bins == 65535 else None
        table.add(
            n_bins,
            seconds(elapsed),
            megabytes(traced),
            f"{sse:.6g}",
            f"{optimum:.6g}" if optimum is not None else "",
        )
        exact = optimum is None or abs(sse - optimum) <= 1e-9 * optimum
        targets.append(
            Target(
                f"{n_bins} bins on all uint16 values",
                f"<= {LARGE_LIMITS[0]:.0f} s, <= 1 GiB extra, exact",
                f"{seconds(elapsed)}, {megabytes(traced)}"
                + (f", SSE {sse:.6g} = optimum" if exact and optimum else ""),
                elapsed <= LARGE_LIMITS[0] and traced <= LARGE_LIMITS[1] and exact,
            )
        )
    return table, targets


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
