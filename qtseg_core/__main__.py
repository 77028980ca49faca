from qtseg_core.cli import main

raise SystemExit(main())
