"""Time to quality of a training run, from the validation it logged: the minutes and
steps until held-out PSNR-Y first passed bicubic's, and the PSNR-Y reached by 30 minutes.

    python bench/time_to_quality.py CHECKPOINT_DIR [--minutes 30]

Minutes are wall-clock since the run's logs began, validation and checkpointing
included, on the machine that ran it (and whatever else ran there meanwhile).
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from srgan.cli import import_tensorflow_quietly  # noqa: E402

import_tensorflow_quietly()

from srgan.evaluation.validation import read_validation_curve  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run_dir")
    parser.add_argument("--minutes", type=float, default=30)
    args = parser.parse_args()
    start, curve = read_validation_curve(Path(args.run_dir))
    model, bicubic = curve["psnr_y"], curve["bicubic_psnr_y"]
    print(f"{'step':>6} {'minutes':>8} {'PSNR-Y':>7} {'bicubic':>8}")
    for (step, wall, value), (_, _, base) in zip(model, bicubic):
        print(f"{step:6d} {(wall - start) / 60:8.1f} {value:7.2f} {base:8.2f}")
    passed = [(step, wall) for (step, wall, value), (_, _, base) in zip(model, bicubic) if value > base]
    if passed:
        print(f"passed bicubic at step {passed[0][0]}, {(passed[0][1] - start) / 60:.1f} minutes")
    else:
        print(f"never passed bicubic in {len(model)} validations "
              f"(best {max(v for _, _, v in model):.2f} dB against {bicubic[-1][2]:.2f})")
    by_then = [value for _, wall, value in model if (wall - start) / 60 <= args.minutes]
    if by_then:
        print(f"PSNR-Y at {args.minutes:g} minutes: {by_then[-1]:.2f} dB (bicubic {bicubic[-1][2]:.2f})")


if __name__ == "__main__":
    main()
