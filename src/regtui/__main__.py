from regtui.cli.main import main

raise SystemExit(main())
