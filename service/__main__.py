"""``python -m service`` is the same as the ``csvbot`` console script."""

from service.cli import main

raise SystemExit(main())
