"""Colour images to 64 colours: skvq against what a user would pick instead.

The images: china.jpg, flower.jpg, the colour raccoon, and three it was not
tuned on (Grace Hopper's portrait from Matplotlib's sample data, a
generated sky and gradient; ``images.perceptual_images``).

Every method goes from the (h, w, 3) uint8 image to a palette index per pixel
(fit + transform, or its equivalent); the MSE of the image rebuilt from the
palette is over all pixels and channels, on the 0-255 scale. The anchors:

- ``KMeans(n_clusters=64, n_init=1)`` on every pixel (fit + predict), the
  quality reference: its MSE moves by about 1% from seed to seed, so the
  reference is its mean over ``KMEANS_SEEDS`` seeds (the row shows the
  time and MSE of the first);
- scikit-learn's colour-quantization example: ``KMeans(n_clusters=64)`` fit
  on 1,000 shuffled pixels of the image scaled to [0, 1], then ``predict`` on
  all pixels, the speed reference;
- ``MiniBatchKMeans(n_clusters=64)`` on every pixel;
- Pillow's ``Image.quantize`` with median cut, maximum coverage and fast
  octree, without dithering (its palette is rounded to integers);
- libimagequant (``imagequant`` on PyPI) without dithering.

Run: ``python benchmarks/bench_color.py [--smoke]``.
"""

import argparse

import imagequant
import images
import numpy as np
from measure import best_time, mse, psnr
from PIL import Image
from sklearn.cluster import KMeans, MiniBatchKMeans
from sklearn.utils import shuffle
from tables import Table, Target, number, ratio, seconds

try:
    from skvq import ImageVectorQuantizer
except ImportError:  # lets the anchors run on a checkout without the estimator
    ImageVectorQuantizer = None

N_COLORS = 64
MSE_TOLERANCE = 0.01  # relative to full-data KMeans
SEED = 0
KMEANS_SEEDS = (0, 1, 2)


def skvq_method(strategy):
    def quantize(image):
        h = image.shape[0]
        estimator = ImageVectorQuantizer(
            n_bins=N_COLORS, n_channels=3, strategy=strategy, random_state=SEED
        )
        codes = estimator.fit(image.reshape(h, -1)).transform(image.reshape(h, -1))
        return lambda: estimator.inverse_transform(codes).reshape(image.shape)

    return quantize


def kmeans_full(image, seed=SEED):
    pixels = image.reshape(-1, 3).astype(np.float64)
    estimator = KMeans(n_clusters=N_COLORS, n_init=1, random_state=seed)
    labels = estimator.fit(pixels).predict(pixels)
    return lambda: estimator.cluster_centers_[labels].reshape(image.shape)


def kmeans_reference_mse(image, first_mse):
    """Mean MSE of full-data KMeans over KMEANS_SEEDS (the first given)."""
    errors = [first_mse] + [
        mse(image, kmeans_full(image, seed)()) for seed in KMEANS_SEEDS[1:]
    ]
    return float(np.mean(errors))


def sklearn_example(image):
    """As in scikit-learn's "Color Quantization using K-Means" example."""
    pixels = image.reshape(-1, 3).astype(np.float64) / 255
    sample = shuffle(pixels, random_state=SEED, n_samples=1_000)
    estimator = KMeans(n_clusters=N_COLORS, random_state=SEED).fit(sample)
    labels = estimator.predict(pixels)
    return lambda: 255 * estimator.cluster_centers_[labels].reshape(image.shape)


def minibatch_kmeans(image):
    pixels = image.reshape(-1, 3).astype(np.float64)
    estimator = MiniBatchKMeans(n_clusters=N_COLORS, random_state=SEED)
    labels = estimator.fit(pixels).predict(pixels)
    return lambda: estimator.cluster_centers_[labels].reshape(image.shape)


def pillow_method(method):
    def quantize(image):
        picture = Image.fromarray(image)
        paletted = picture.quantize(N_COLORS, method=method, dither=Image.Dither.NONE)
        return lambda: np.asarray(paletted.convert("RGB"))

    return quantize


def libimagequant(image):
    h, w, _ = image.shape
    rgba = np.concatenate([image, np.full((h, w, 1), 255, np.uint8)], axis=2)
    indices, palette = imagequant.quantize_raw_rgba_bytes(
        rgba.tobytes(), w, h, dithering_level=0.0, max_colors=N_COLORS
    )

    def rebuild():
        colors = np.asarray(palette, dtype=np.uint8).reshape(-1, 4)[:, :3]
        return colors[np.frombuffer(indices, dtype=np.uint8)].reshape(image.shape)

    return rebuild


ANCHORS = [
    ("KMeans, all pixels", kmeans_full),
    ("sklearn example (1,000-pixel fit)", sklearn_example),
    ("MiniBatchKMeans", minibatch_kmeans),
    ("Pillow median cut", pillow_method(Image.Quantize.MEDIANCUT)),
    ("Pillow max coverage", pillow_method(Image.Quantize.MAXCOVERAGE)),
    ("Pillow fast octree", pillow_method(Image.Quantize.FASTOCTREE)),
    ("libimagequant", libimagequant),
]
SKVQ_STRATEGIES = ("kmeans", "quantile", "uniform")


def measure(quantize, image, repeat):
    """(seconds, MSE, failure message); the rebuild is not timed."""
    try:
        elapsed, rebuild = best_time(lambda: quantize(image), repeat, budget=5.0)
        return elapsed, mse(image, rebuild()), ""
    except Exception as exc:  # shown in the table rather than hiding the rest
        return None, None, f"{type(exc).__name__}: {exc}"[:80]


def run(smoke=False):
    """Measure; return (tables, targets)."""
    repeat = 1 if smoke else 5
    table = Table(
        f"Colour images to {N_COLORS} colours",
        [
            "image",
            "method",
            "time",
            "speed-up vs example",
            "MSE",
            "PSNR",
            "MSE / KMeans all pixels",
        ],
        note=(
            "Time from the uint8 image to one palette index per pixel. "
            "Speed-up: the sklearn example's time divided by the method's. "
            "MSE / KMeans: the method's MSE divided by the mean MSE of "
            f"KMeans(n_init=1) on all pixels over {len(KMEANS_SEEDS)} seeds. "
            "KMeans runs OpenMP threads, which other processes on the machine "
            "slow down far more than single-threaded code (several times over "
            "on a busy 2-core machine)."
        ),
    )
    targets = []
    failures = []
    methods = list(ANCHORS)
    if ImageVectorQuantizer is not None:
        methods += [(f"skvq {s}", skvq_method(s)) for s in SKVQ_STRATEGIES]
    # The colour photos and the ones skvq was not tuned on: Grace Hopper's
    # portrait (Matplotlib's sample data), a generated sky and gradient.
    for name, image in images.perceptual_images(smoke).items():
        results = {}
        for label, quantize in methods:
            results[label] = measure(quantize, image, repeat)
            if results[label][2]:
                failures.append(f"{name}, {label}: {results[label][2]}")
        example_time = results["sklearn example (1,000-pixel fit)"][0]
        reference = results["KMeans, all pixels"][1]
        if reference is not None and not smoke:
            reference = kmeans_reference_mse(image, reference)
        for label, (elapsed, error, _) in results.items():
            table.add(
                name,
                label,
                seconds(elapsed),
                ratio(example_time, elapsed),
                number(error),
                number(None if error is None else psnr(error)),
                "n/a" if error is None else f"{error / reference:.3f}",
            )
        ours_time, ours_mse, _ = results.get("skvq kmeans", (None, None, ""))
        met = (
            ours_mse is not None
            and ours_mse <= (1 + MSE_TOLERANCE) * reference
            and ours_time <= example_time
        )
        targets.append(
            Target(
                f"colour, {name}, {N_COLORS} colours",
                f"MSE <= {(1 + MSE_TOLERANCE) * reference:.2f} (KMeans "
                f"{reference:.2f}, mean of {len(KMEANS_SEEDS)} seeds, + 1%) "
                f"in <= {seconds(example_time)} (example)",
                f"MSE {number(ours_mse)} in {seconds(ours_time)}",
                met,
            )
        )
    if ImageVectorQuantizer is None:
        table.note += " skvq is not importable here: no skvq rows."
    if failures:
        table.note += " Failures: " + "; ".join(failures)
    return [table], targets


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny images, 1 run")
    args = parser.parse_args()
    tables, _ = run(args.smoke)
    for table in tables:
        print(table.to_markdown())


if __name__ == "__main__":
    main()
