import sys

from chestxray.cli import main

sys.exit(main())
