"""`python -m core.train.timelapse RUN_DIR --out checkpoints/NAME/timelapse` (a package, so the CLI is not
imported twice: core.train already imports the library)."""
from . import main

main()
