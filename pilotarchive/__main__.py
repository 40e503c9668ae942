import sys

from pilotarchive.cli import main

sys.exit(main())
