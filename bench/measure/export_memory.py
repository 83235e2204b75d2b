"""Peak memory of the exported SavedModel's two signatures: `serving_default` (the whole
photo in one call) and `tiled` (128 LR px tiles with the shipped generator's margin).

    python bench/measure/export_memory.py [--sides 267 512 2048]

Exports the shipped generator to a temporary folder, then runs each signature on a
square photo of each side (scikit-image's astronaut, resized) in a fresh process and
reads that process's peak resident memory, so one run's memory cannot hide another's.
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CHILD = """
import json, resource, sys, time
import numpy as np, skimage.data, tensorflow as tf
from PIL import Image
saved, signature, side = sys.argv[1], sys.argv[2], int(sys.argv[3])
photo = np.asarray(Image.fromarray(skimage.data.astronaut()).resize((side, side), Image.BICUBIC))
model = tf.saved_model.load(saved)
start = time.perf_counter()
sr = model.signatures[signature](image=tf.constant(photo))["sr"].numpy()
seconds = time.perf_counter() - start
print(json.dumps({"shape": list(sr.shape), "seconds": round(seconds, 1),
                  "peak_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2)}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sides", type=int, nargs="+", default=[267, 512, 2048])
    parser.add_argument("--signatures", nargs="+", default=["serving_default", "tiled"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        subprocess.run([sys.executable, str(ROOT / "main.py"), "--mode=export",
                        "--checkpoint=pretrained", f"--output={folder}"], check=True)
        for side in args.sides:
            for signature in args.signatures:
                started = time.perf_counter()
                done = subprocess.run([sys.executable, "-c", CHILD, f"{folder}/saved_model", signature,
                                       str(side)], capture_output=True, text=True)
                line = (json.loads(done.stdout.strip().splitlines()[-1]) if done.returncode == 0
                        else {"failed": done.stderr.strip().splitlines()[-1][:200]})
                print(f"{side}x{side} {signature}: {line} ({time.perf_counter() - started:.0f} s with "
                      "the load)", flush=True)


if __name__ == "__main__":
    main()
