"""Join the chunks of one output once all are done (what a pipeline's merge step runs).

    python -m nemo_skills.inference.merge_chunks --output_file out/output-rs0.jsonl --num_chunks 4

Exits 0 after merging (or if already merged), 1 if some chunk is not done yet.
"""

from __future__ import annotations

import argparse
import logging
import sys

from nemo_skills.inference.output_files import merge_chunks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output_file", required=True)
    parser.add_argument("--num_chunks", type=int, required=True)
    parser.add_argument("--keep_chunks", action="store_true", help="keep the chunk files after merging")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    return 0 if merge_chunks(args.output_file, args.num_chunks, remove_chunks=not args.keep_chunks) else 1


if __name__ == "__main__":
    sys.exit(main())
