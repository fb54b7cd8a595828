from seat.cli import main

raise SystemExit(main())
